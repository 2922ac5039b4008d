import type { FastifyPluginAsync } from 'fastify';
import { priorityToScale } from '../../domain/priority.js';
import type { Engine } from '../../engine/engine.js';
import { findExecution } from '../../store/executions.js';
import { findJobs } from '../../store/jobs.js';
import type { ErrorRow, ExecutionRow, JobRow } from '../../store/schema.js';
import { listExecutionsOfAllJobs, type ExecutionOrder } from './execution-and-type-lists.js';
import { errorFor, loadJobContext, withExecutions, type JobContext } from './job-context.js';
import { exeV5, jobTypeV5, jobV5 } from './legacy-jobs.js';
import { paginate } from './pagination.js';
import { badParameter, notFoundError, Params } from './params.js';
import { executionStatesOf } from './status-mapping.js';
import { ID } from './v6-jobs.js';

/*
 * The legacy execution services (Scale 6.0's v5 job app, unprefixed in 3.x):
 * GET /v5/job-executions/ over every job's executions, by last_modified (`started`/`ended`
 * window it), and GET /v5/job-executions/{id}/; their logs are the v6 log routes.
 */

const errorBaseV5 = (e: ErrorRow | undefined) =>
  e
    ? {
        id: e.id,
        name: e.name,
        title: e.title,
        description: e.description,
        category: e.category,
        is_builtin: e.is_builtin === 1,
      }
    : null;

function jobBaseV5(job: JobRow, c: JobContext) {
  const full = jobV5(job, c);
  return {
    id: job.id,
    job_type: jobTypeV5(c, job),
    job_type_rev: full.job_type_rev ? { id: full.job_type_rev.id } : null,
    event: full.event ? { id: full.event.id } : null,
    error: full.error ? { id: full.error.id } : null,
    status: full.status,
    priority: priorityToScale(job.priority),
    num_exes: full.num_exes,
  };
}

function executionV5(e: ExecutionRow, job: JobRow, c: JobContext) {
  const node = c.nodes.get(e.node_id);
  const error = errorFor(c.errors, e.error_name, c.types.get(job.job_type_id)?.name);
  return {
    ...exeV5(e, job),
    job: jobBaseV5(job, c),
    node: node ? { id: node.id, hostname: node.hostname } : null,
    error: errorBaseV5(error),
  };
}

const ORDER_FIELDS = new Set<string>(['last_modified', 'id', 'created']);

export function legacyExecutionRoutes(engine: Engine): FastifyPluginAsync {
  const { ctx } = engine;

  async function contextOf(rows: readonly ExecutionRow[]) {
    const found = await findJobs(
      ctx.db,
      rows.map((r) => r.job_id),
    );
    const jobs = new Map(found.map((j) => [j.id, j]));
    const c = await withExecutions(ctx, await loadJobContext(ctx, found), rows);
    return { jobs, c };
  }

  return async (app) => {
    app.get('/', async (request) => {
      const p = new Params(request, ctx.clock());
      const { started, ended } = p.timeRange();
      const statuses = p.strings('status');
      const order = p.strings('order') ?? ['last_modified'];
      const first = order[0] ?? 'last_modified';
      const field = first.replace(/^-/, '');
      if (!ORDER_FIELDS.has(field)) throw badParameter(`Invalid order field: ${field}`);
      return paginate(
        request,
        (page) =>
          listExecutionsOfAllJobs(
            ctx.db,
            {
              ...(started !== undefined ? { modifiedFrom: started } : {}),
              ...(ended !== undefined ? { modifiedTo: ended } : {}),
              ...(statuses ? { states: executionStatesOf(statuses) } : {}),
              ...(p.ints('job_type_id') ? { jobTypeIds: p.ints('job_type_id')! } : {}),
              ...(p.strings('job_type_name') ? { jobTypeNames: p.strings('job_type_name')! } : {}),
              ...(p.strings('job_type_category')
                ? { jobTypeCategories: p.strings('job_type_category')! }
                : {}),
              ...(p.ints('node_id') ? { nodeIds: p.ints('node_id')! } : {}),
            },
            field as ExecutionOrder,
            first.startsWith('-'),
            page,
          ),
        async (rows) => {
          const { jobs, c } = await contextOf(rows);
          return rows.map((e) => executionV5(e, jobs.get(e.job_id)!, c));
        },
      );
    });

    app.get(`/${ID}/`, async (request) => {
      const execution = await findExecution(ctx.db, Number((request.params as { id: string }).id));
      if (!execution) throw notFoundError();
      const { jobs, c } = await contextOf([execution]);
      const job = jobs.get(execution.job_id);
      if (!job || job.deleted_at !== null) throw notFoundError();
      return {
        ...executionV5(execution, job, c),
        job: jobV5(job, c),
        environment: {},
        cpus_scheduled: job.req_cpus,
        mem_scheduled: job.req_mem,
        disk_in_scheduled: c.sources.get(job.id)?.input_file_size ?? 0,
        disk_out_scheduled: job.req_disk,
        results: null,
      };
    });
  };
}
