import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { priorityToScale } from '../../domain/priority.js';
import type { Engine } from '../../engine/engine.js';
import { applyJobAction } from '../../engine/jobs/job-actions.js';
import type { DataV6 } from '../../formats/seed/seed-data.js';
import { seedOutputValues } from '../../formats/seed/seed-outputs.js';
import { findFiles, type FileRow, type ProductFileRow } from '../../store/files.js';
import { findJob } from '../../store/jobs.js';
import { executionsOfJob } from '../../store/rows-by-ids.js';
import type { ExecutionRow, JobRow } from '../../store/schema.js';
import {
  errorFor,
  loadJobContext,
  scaleDocumentOf,
  seedDocumentOf,
  withExecutions,
  type JobContext,
} from './job-context.js';
import { legacyListFilter, orderOf } from './job-filters.js';
import { listScaleJobs } from './job-list.js';
import { paginate } from './pagination.js';
import { badParameter, notFoundError, Params, scaleTime as time } from './params.js';
import { eventJson, fileJson, scaleMaxTries } from './serializers.js';
import { EXECUTION_STATUS_TABLE, scaleNumExes, scaleStatusOf } from './status-mapping.js';
import { ID } from './v6-jobs.js';

/*
 * Scale's legacy job services (v5, and unversioned in 3.x): /jobs/, /jobs/{id}/ with PATCH
 * cancel, /jobs/updates/, /jobs/executions/. Mounted at /jobs and /v5/jobs.
 */

export function jobTypeV5(c: JobContext, job: JobRow) {
  const type = c.types.get(job.job_type_id)!;
  const document = seedDocumentOf(c.revisions.get(job.job_type_rev_id));
  return {
    id: type.id,
    name: type.name,
    version: type.version,
    title: type.title || null,
    description: type.description || null,
    category: type.category || null,
    author_name: (document?.manifest.job.maintainer.name as string | undefined) ?? null,
    author_url: (document?.manifest.job.maintainer.url as string | undefined) ?? null,
    is_system: type.is_system === 1,
    is_long_running: false,
    is_active: type.is_active === 1,
    is_operational: true,
    is_paused: type.is_paused === 1,
    is_published: document?.is_published ?? false,
    icon_code: document?.icon_code ?? null,
  };
}

export function exeV5(e: ExecutionRow, job: JobRow) {
  return {
    id: e.id,
    status: EXECUTION_STATUS_TABLE[e.state] ?? 'RUNNING',
    command_arguments: '',
    timeout: job.task_timeout_s,
    pre_started: null,
    pre_completed: null,
    pre_exit_code: null,
    job_started: time(e.started_at),
    job_completed: time(e.ended_at),
    job_exit_code: e.exit_code,
    post_started: null,
    post_completed: null,
    post_exit_code: null,
    created: time(e.created_at),
    queued: time(e.created_at),
    started: time(e.started_at),
    ended: time(e.ended_at),
    last_modified: time(e.last_modified),
    job: { id: job.id },
    node: { id: e.node_id },
    error: null as { id: number } | null,
  };
}

export function jobV5(job: JobRow, c: JobContext) {
  const status = scaleStatusOf(job, c.blocked.has(job.id));
  const type = c.types.get(job.job_type_id)!;
  const latest = c.latest.get(job.id);
  const error = status === 'FAILED' ? errorFor(c.errors, job.error_name, type.name) : undefined;
  const node =
    latest && ['RUNNING', 'COMPLETED', 'FAILED'].includes(status)
      ? c.nodes.get(latest.node_id)
      : undefined;
  const revision = c.revisions.get(job.job_type_rev_id);
  return {
    id: job.id,
    job_type: jobTypeV5(c, job),
    job_type_rev: revision
      ? { id: revision.id, job_type: { id: type.id }, revision_num: revision.revision_num }
      : null,
    event: job.event_id === null ? null : { ...eventJson(c.events.get(job.event_id))!, rule: null },
    node: node ? { id: node.id, hostname: node.hostname } : null,
    error: error
      ? {
          id: error.id,
          name: error.name,
          title: error.title,
          description: error.description,
          category: error.category,
          is_builtin: error.is_builtin === 1,
        }
      : null,
    status,
    priority: priorityToScale(job.priority),
    num_exes: scaleNumExes(job),
    timeout: job.task_timeout_s,
    max_tries: scaleMaxTries(job),
    cpus_required: job.req_cpus,
    mem_required: job.req_mem,
    disk_in_required: c.sources.get(job.id)?.input_file_size ?? 0,
    disk_out_required: job.req_disk,
    is_superseded: false,
    root_superseded_job: null,
    superseded_job: null,
    superseded_by_job: null,
    delete_superseded: true,
    created: time(job.created_at),
    queued: time(job.queued_at),
    started: time(job.started_at),
    ended: time(job.ended_at),
    last_status_change: time(job.last_status_change),
    superseded: null,
    last_modified: time(job.last_modified),
  };
}

function fileV5(f: FileRow) {
  const v6 = fileJson(f);
  return {
    id: f.id,
    workspace: v6.workspace,
    file_name: f.file_name,
    media_type: f.media_type,
    file_size: f.size,
    data_type: v6.data_type_tags,
    is_deleted: v6.is_deleted,
    uuid: null,
    url: null,
    created: v6.created,
    deleted: v6.deleted,
    data_started: v6.data_started,
    data_ended: v6.data_ended,
    geometry: null,
    center_point: null,
    meta_data: {},
    last_modified: v6.last_modified,
  };
}

/** A product file as the legacy services show an output's value (Scale's Product Details). */
function productV5(f: ProductFileRow, job: JobRow) {
  const published = job.state === 'COMPLETED';
  return {
    ...fileV5(f),
    is_operational: true,
    is_published: published,
    published: published ? time(job.ended_at) : null,
    unpublished: null,
    job_type: { id: job.job_type_id },
    job: { id: job.id },
    job_exe: f.execution_id === null ? null : { id: f.execution_id },
  };
}

function dataV1(input: DataV6) {
  return {
    version: '1.0',
    input_data: [
      ...Object.entries(input.files).map(([name, ids]) =>
        ids.length === 1 ? { name, file_id: ids[0] } : { name, file_ids: ids },
      ),
      ...Object.entries(input.json).map(([name, value]) => ({ name, value })),
    ],
    output_data: [],
  };
}

export function legacyJobRoutes(engine: Engine): FastifyPluginAsync {
  const { ctx } = engine;
  const params = (request: FastifyRequest) => new Params(request, ctx.clock());

  async function details(id: number) {
    const job = await findJob(ctx.db, id);
    if (!job || job.deleted_at !== null) throw notFoundError();
    const executions = await executionsOfJob(ctx.db, id);
    const c = await withExecutions(ctx, await loadJobContext(ctx, [job]), executions);
    const input = scaleDocumentOf(job)?.input ?? { files: {}, json: {} };
    const files = new Map(
      (await findFiles(ctx.db, Object.values(input.files).flat())).map((f) => [Number(f.id), f]),
    );
    const document = seedDocumentOf(c.revisions.get(job.job_type_rev_id));
    const iface = document?.manifest.job.interface;
    const type = c.types.get(job.job_type_id)!;
    const outputs = await seedOutputValues(ctx, job);
    return {
      ...jobV5(job, c),
      data: dataV1(input),
      results: { version: '1.0', output_data: [] },
      recipes: [],
      job_exes: [...executions].reverse().map((e) => {
        const exe = exeV5(e, job);
        const error = errorFor(c.errors, e.error_name, type.name);
        return { ...exe, error: error ? { id: error.id } : null };
      }),
      inputs: [
        ...(iface?.inputs?.files ?? []).map((f) => {
          const ids = input.files[f.name] ?? [];
          const values = ids.flatMap((fid) => (files.has(fid) ? [fileV5(files.get(fid)!)] : []));
          return {
            name: f.name,
            type: f.multiple ? 'files' : 'file',
            value: f.multiple ? values : (values[0] ?? null),
          };
        }),
        ...(iface?.inputs?.json ?? []).map((j) => ({
          name: j.name,
          type: 'property',
          value: input.json[j.name] ?? null,
        })),
      ],
      outputs: [
        ...(iface?.outputs?.files ?? []).map((o) => {
          const products = (outputs.files[o.name] ?? []).map((f) => productV5(f, job));
          return {
            name: o.name,
            type: o.multiple ? 'files' : 'file',
            value: products.length === 0 ? null : o.multiple ? products : products[0],
          };
        }),
        ...(iface?.outputs?.json ?? []).map((j) => ({
          name: j.name,
          type: 'property',
          value: outputs.json[j.name] ?? null,
        })),
      ],
    };
  }

  return async (app) => {
    app.get('/', async (request) => {
      const p = params(request);
      const filter = await legacyListFilter(ctx, p);
      const order = orderOf(p, [{ field: 'last_modified', direction: 'asc' }]);
      return paginate(
        request,
        (page) => listScaleJobs(ctx.db, filter, order, page),
        async (rows) => {
          const c = await loadJobContext(ctx, rows);
          return rows.map((job) => jobV5(job, c));
        },
      );
    });

    app.get('/updates/', async (request) => {
      const p = params(request);
      const filter = await legacyListFilter(ctx, p, 'last_status_change');
      const order = orderOf(p, [{ field: 'last_status_change', direction: 'asc' }]);
      return paginate(
        request,
        (page) => listScaleJobs(ctx.db, filter, order, page),
        async (rows) => {
          const c = await loadJobContext(ctx, rows);
          return Promise.all(
            rows.map(async (job) => {
              const ids = Object.values(scaleDocumentOf(job)?.input.files ?? {}).flat();
              const files = await findFiles(ctx.db, ids);
              return { ...jobV5(job, c), input_files: files.map(fileV5) };
            }),
          );
        },
      );
    });

    app.get('/executions/', async (request) => {
      const p = params(request);
      const filter = await legacyListFilter(ctx, p);
      const order = orderOf(p, [{ field: 'last_modified', direction: 'asc' }]);
      return paginate(
        request,
        (page) => listScaleJobs(ctx.db, filter, order, page),
        async (rows) => {
          const c = await loadJobContext(ctx, rows);
          return rows.map((job) => {
            const latest = c.latest.get(job.id);
            let exe = null;
            if (latest) {
              const error = errorFor(
                c.errors,
                latest.error_name,
                c.types.get(job.job_type_id)?.name,
              );
              exe = { ...exeV5(latest, job), error: error ? { id: error.id } : null };
            }
            return { ...jobV5(job, c), latest_job_exe: exe };
          });
        },
      );
    });

    app.get(`/${ID}/`, async (request) => details(Number((request.params as { id: string }).id)));

    /*
     * Scale's JobDetailsView.patch, message for message: util/rest.check_update refuses the
     * body's fields other than status, then parse_string reads status (query string first,
     * then body; null is missing), then only CANCELED is allowed, then the job is looked up.
     */
    app.patch(`/${ID}/`, async (request) => {
      const id = Number((request.params as { id: string }).id);
      const body = request.body;
      const fields =
        typeof body === 'object' && body !== null && !Array.isArray(body) ? Object.keys(body) : [];
      const extra = fields.filter((k) => k !== 'status');
      if (extra.length > 0) throw badParameter(`Fields do not allow updates: ${extra.join(', ')}`);
      const status = statusOf(request, body);
      if (status === undefined) throw badParameter('Missing required parameter: "status"');
      if (status !== 'CANCELED') {
        throw badParameter('Invalid or read-only status. Allowed values: CANCELED');
      }
      const job = await findJob(ctx.db, id);
      if (!job || job.deleted_at !== null) throw notFoundError();
      // Like Scale 6.0: a COMPLETED or CANCELED job is left as it is.
      if (job.state !== 'COMPLETED' && job.state !== 'CANCELED') {
        await applyJobAction(ctx, id, 'cancel');
      }
      return details(id);
    });
  };
}

/** `status` as Scale's _get_param reads it: the query's last value, else the body's; null is none. */
function statusOf(request: FastifyRequest, body: unknown): unknown {
  const query = (request.query ?? {}) as Record<string, unknown>;
  const fromQuery = query.status;
  if (fromQuery !== undefined) return Array.isArray(fromQuery) ? fromQuery.at(-1) : fromQuery;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  return (body as { status?: unknown }).status ?? undefined;
}
