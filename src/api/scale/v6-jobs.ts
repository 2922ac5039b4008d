import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { priorityFromScale } from '../../domain/priority.js';
import { recordJobAuditEvents } from '../../engine/accounts/audit-trail.js';
import { changeableJobIds } from '../../engine/accounts/permissions.js';
import type { Engine } from '../../engine/engine.js';
import { cancelJobs, requeueJobs, type BulkOutcome } from '../../engine/jobs/bulk-job-commands.js';
import { getJob } from '../../engine/queries.js';
import { queueSeedJob } from '../../formats/seed/seed-jobs.js';
import { seedOutputData } from '../../formats/seed/seed-outputs.js';
import { findBatches } from '../../store/events-and-batches.js';
import { findExecution } from '../../store/executions.js';
import { listJobInputFiles } from '../../store/files.js';
import { setJobDialect } from '../../store/job-dialect-data.js';
import { findErrorsByIds } from '../../store/job-type-errors.js';
import { findJob } from '../../store/jobs.js';
import { executionOfJob } from '../../store/rows-by-ids.js';
import { auditEntryOf, scaleBulkJobIds } from '../authorization/audit-hook.js';
import { listJobExecutions } from './execution-and-type-lists.js';
import { loadJobContext, withExecutions } from './job-context.js';
import { bulkFilter, orderOf, v6ListFilter } from './job-filters.js';
import { listScaleJobs, matchingJobIds } from './job-list.js';
import { paginate } from './pagination.js';
import { badParameter, notFoundError, Params } from './params.js';
import {
  executionDetails,
  executionItem,
  fileJson,
  jobDetails,
  jobListItem,
} from './serializers.js';
import { executionStatesOf } from './status-mapping.js';

/* v6 job services (job/views.py): list, queue, details, input files, executions, bulk. */

export const ID = ':id(^\\d+)';

/** Runs `work` once the response has gone out: Scale's bulk commands are asynchronous. */
export function afterResponse(
  request: FastifyRequest,
  reply: FastifyReply,
  work: () => Promise<unknown>,
) {
  reply.raw.once('close', () => {
    work().catch((error: unknown) =>
      request.log.error({ err: error }, 'scale bulk command failed'),
    );
  });
}

/** The URL prefix this request came in under (/v6 or /api/v6). */
export const prefixOf = (request: FastifyRequest): string =>
  request.url.slice(0, request.url.indexOf('/v6/') + 3);

export function v6JobRoutes(engine: Engine): FastifyPluginAsync {
  const { ctx } = engine;
  const params = (request: FastifyRequest) => new Params(request, ctx.clock());
  const jobId = (request: FastifyRequest) => Number((request.params as { id: string }).id);

  async function details(id: number) {
    const job = await findJob(ctx.db, id);
    if (!job || job.deleted_at !== null) throw notFoundError();
    const [c, output] = await Promise.all([loadJobContext(ctx, [job]), seedOutputData(ctx, job)]);
    return jobDetails(job, c, output);
  }

  return async (app) => {
    app.get('/jobs/', async (request) => {
      const p = params(request);
      const filter = await v6ListFilter(ctx, p);
      const order = orderOf(p, [{ field: 'last_modified', direction: 'asc' }]);
      return paginate(
        request,
        (page) => listScaleJobs(ctx.db, filter, order, page),
        async (rows) => {
          const c = await loadJobContext(ctx, rows);
          return rows.map((job) => jobListItem(job, c));
        },
      );
    });

    app.post('/jobs/', async (request, reply) => {
      const p = params(request);
      const jobTypeId = p.requiredInt('job_type_id');
      const input = p.object('input');
      const configuration = p.object('configuration');
      // Drover's addition: Scale puts jobs in batches through recipes, which Drover lacks.
      const batchId = p.int('batch_id');
      if (batchId !== undefined && !(await findBatches(ctx.db, [batchId])).has(batchId)) {
        throw badParameter(`Batch ${batchId} does not exist`);
      }
      const id = await queueSeedJob(ctx, {
        ...(batchId !== undefined ? { batchId } : {}),
        jobTypeId,
        input: input ?? {},
        ...(configuration !== undefined ? { configuration } : {}),
        user: request.principal?.name ?? 'Anonymous',
      });
      const host = request.headers.host ?? request.hostname;
      void reply
        .status(201)
        .header('Location', `${request.protocol}://${host}${prefixOf(request)}/jobs/${id}/`);
      return details(id);
    });

    app.get(`/jobs/${ID}/`, async (request) => details(jobId(request)));

    app.get(`/jobs/${ID}/input_files/`, async (request) => {
      const id = jobId(request);
      const p = params(request);
      const job = await findJob(ctx.db, id);
      if (!job) throw notFoundError();
      const { started, ended } = p.timeRange();
      const timeField =
        p.string('time_field', ['source', 'data', 'last_modified']) ?? 'last_modified';
      const fileName = p.string('file_name');
      const inputName = p.string('job_input');
      return paginate(
        request,
        (page) =>
          listJobInputFiles(
            ctx.db,
            id,
            {
              timeField: timeField as 'source' | 'data' | 'last_modified',
              ...(started !== undefined ? { after: started } : {}),
              ...(ended !== undefined ? { before: ended } : {}),
              ...(fileName !== undefined ? { fileName } : {}),
              ...(inputName !== undefined ? { inputName } : {}),
            },
            page,
          ),
        (rows) => rows.map((f) => fileJson(f, { jobId: id })),
      );
    });

    app.get(`/jobs/${ID}/executions/`, async (request) => {
      const id = jobId(request);
      const p = params(request);
      const statuses = p.strings('status');
      const errorIds = p.ints('error_id');
      const errorNames = errorIds && (await findErrorsByIds(ctx.db, errorIds)).map((e) => e.name);
      const nodeIds = p.ints('node_id');
      const categories = p.strings('error_category');
      const job = await findJob(ctx.db, id);
      return paginate(
        request,
        (page) =>
          job
            ? listJobExecutions(
                ctx.db,
                id,
                {
                  ...(statuses ? { states: executionStatesOf(statuses) } : {}),
                  ...(nodeIds ? { nodeIds } : {}),
                  ...(errorNames ? { errorNames } : {}),
                  ...(categories ? { errorCategories: categories } : {}),
                },
                page,
              )
            : Promise.resolve({ rows: [], total: 0 }),
        async (rows) => {
          if (!job) return [];
          const c = await loadJobContext(ctx, [job]);
          const more = await withExecutions(ctx, c, rows);
          return rows.map((e) => executionItem(e, job, more));
        },
      );
    });

    app.get(`/jobs/${ID}/executions/:exe(^\\d+)/`, async (request) => {
      const id = jobId(request);
      const exeNum = Number((request.params as { exe: string }).exe);
      const execution = await executionOfJob(ctx.db, id, exeNum);
      if (!execution) throw notFoundError();
      const job = await getJob(ctx, id);
      const c = await loadJobContext(ctx, [job]);
      return executionDetails(execution, job, await withExecutions(ctx, c, [execution]));
    });

    app.get(`/job-executions/${ID}/`, async (request) => {
      const execution = await findExecution(ctx.db, jobId(request));
      if (!execution) throw notFoundError();
      const job = await getJob(ctx, execution.job_id);
      const c = await loadJobContext(ctx, [job]);
      return executionDetails(execution, job, await withExecutions(ctx, c, [execution]));
    });

    /**
     * Each job a bulk command acted on gets its own audit entry, for its history: each job
     * it named in `job_ids` that the caller may change, whether or not its state let the
     * command change it (a requeue of a QUEUED job), or else each job its filter matched
     * and it changed.
     */
    const audited = (
      request: FastifyRequest,
      action: string,
      changeable: readonly number[],
      outcome: BulkOutcome,
    ) => {
      const named = new Set(scaleBulkJobIds(request));
      const jobs = named.size > 0 ? changeable.filter((id) => named.has(id)) : outcome.changed;
      return recordJobAuditEvents(ctx, auditEntryOf(request, 'drover', action, 202), jobs);
    };

    app.post('/jobs/cancel/', async (request, reply) => {
      const filter = await bulkFilter(ctx, params(request));
      afterResponse(request, reply, async () => {
        const ids = await matchingJobIds(ctx.db, filter);
        const changeable = await changeableJobIds(ctx, request.principal, ids);
        await audited(request, 'cancel', changeable, await cancelJobs(ctx, changeable));
      });
      return reply.status(202).send();
    });

    app.post('/jobs/requeue/', async (request, reply) => {
      const p = params(request);
      const filter = await bulkFilter(ctx, p);
      const priority = p.int('priority');
      afterResponse(request, reply, async () => {
        const ids = await matchingJobIds(ctx.db, filter);
        const changeable = await changeableJobIds(ctx, request.principal, ids);
        const outcome = await requeueJobs(
          ctx,
          changeable,
          priority ? priorityFromScale(priority) : undefined,
          // Scale's max_tries counts across requeues: the tries before this one are kept.
          async (job) => {
            const dialect = JSON.parse(job.dialect_json) as Record<string, unknown>;
            const scale = (dialect.scale ?? {}) as Record<string, unknown>;
            await setJobDialect(
              ctx.db,
              job.id,
              { ...dialect, scale: { ...scale, triesBefore: job.num_exes } },
              ctx.clock(),
            );
          },
        );
        await audited(request, 'requeue', changeable, outcome);
      });
      return reply.status(202).send();
    });
  };
}
