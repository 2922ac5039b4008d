import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import { DroverError, invalid } from '../../domain/errors.js';
import type { ScheduleInput } from '../../domain/job-schedule.js';
import type { Engine } from '../../engine/engine.js';
import {
  applyJobAction,
  deleteJob,
  JOB_ACTIONS,
  purgeJob,
  undeleteJob,
  updateJobSettings,
} from '../../engine/job-actions.js';
import { submitJob } from '../../engine/job-submission.js';
import { getJobDetail } from '../../engine/queries.js';
import { waitingReasons } from '../../engine/waiting-reasons.js';
import {
  JOB_SORT_FIELDS,
  listJobs,
  type JobSort,
  type JobSortField,
} from '../../store/job-list.js';
import { findJobType, findJobTypeByName } from '../../store/job-types.js';
import { requireRole } from '../auth.js';
import { jobJson } from './representations.js';
import {
  errorResponses,
  IdParams,
  Job,
  JobState,
  Page,
  pageOf,
  Resources,
  Schedule,
  TaskTimeoutAction,
} from './schemas.js';

const CommaList = Type.Union([Type.Array(Type.String()), Type.String()]);
const list = (v: string | string[] | undefined): string[] | undefined =>
  v === undefined
    ? undefined
    : (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).filter(Boolean);

const SubmitBody = Type.Object(
  {
    type: Type.String({ minLength: 1, description: 'Job type name, e.g. command-line' }),
    typeVersion: Type.Optional(Type.String()),
    name: Type.Optional(Type.String({ maxLength: 500 })),
    user: Type.Optional(Type.String({ minLength: 1, description: 'Admins may submit for others' })),
    comment: Type.Optional(Type.String()),
    department: Type.Optional(Type.String()),
    priority: Type.Optional(Type.Integer({ description: 'Higher runs first; default 50' })),
    pool: Type.Optional(Type.String()),
    group: Type.Optional(Type.String()),
    frames: Type.Optional(Type.String({ description: 'Deadline frame list, e.g. 1-100x5' })),
    chunkSize: Type.Optional(Type.Integer({ minimum: 1 })),
    inputs: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    parameters: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    machineLimit: Type.Optional(Type.Integer({ minimum: 0 })),
    allowList: Type.Optional(Type.Array(Type.String())),
    denyList: Type.Optional(Type.Array(Type.String())),
    resources: Type.Optional(Type.Partial(Resources)),
    taskTimeout: Type.Optional(Type.Integer({ minimum: 0, description: 'Seconds; 0 = none' })),
    taskTimeoutAction: Type.Optional(TaskTimeoutAction),
    jobTimeout: Type.Optional(Type.Integer({ minimum: 0, description: 'Seconds; 0 = none' })),
    maxTries: Type.Optional(Type.Integer({ minimum: 1 })),
    dependencies: Type.Optional(Type.Array(Type.Integer({ minimum: 1 }))),
    initialState: Type.Optional(
      Type.Union([Type.Literal('QUEUED'), Type.Literal('SUSPENDED'), Type.Literal('PENDING')]),
    ),
    scheduledAt: Type.Optional(
      Type.String({
        format: 'date-time',
        description: 'Held PENDING until then: the same as a once schedule without a stop',
      }),
    ),
    schedule: Type.Optional(Schedule),
  },
  { additionalProperties: false },
);

const ListQuery = Type.Intersect([
  Page,
  Type.Object({
    state: Type.Optional(CommaList),
    user: Type.Optional(CommaList),
    type: Type.Optional(CommaList),
    pool: Type.Optional(CommaList),
    group: Type.Optional(CommaList),
    batch: Type.Optional(Type.Array(Type.Integer())),
    q: Type.Optional(Type.String({ description: 'Substring of the job name' })),
    createdAfter: Type.Optional(Type.String({ format: 'date-time' })),
    createdBefore: Type.Optional(Type.String({ format: 'date-time' })),
    startedAfter: Type.Optional(Type.String({ format: 'date-time' })),
    startedBefore: Type.Optional(Type.String({ format: 'date-time' })),
    endedAfter: Type.Optional(Type.String({ format: 'date-time' })),
    endedBefore: Type.Optional(Type.String({ format: 'date-time' })),
    deleted: Type.Optional(
      Type.Union([Type.Literal('exclude'), Type.Literal('include'), Type.Literal('only')]),
    ),
    sort: Type.Optional(
      Type.String({
        description: `Comma list of fields, '-' for descending: ${JOB_SORT_FIELDS.join(', ')}`,
      }),
    ),
  }),
]);

const UpdateBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1 })),
    comment: Type.Optional(Type.String()),
    department: Type.Optional(Type.String()),
    priority: Type.Optional(Type.Integer()),
    pool: Type.Optional(Type.String()),
    group: Type.Optional(Type.String()),
    machineLimit: Type.Optional(Type.Integer({ minimum: 0 })),
    allowList: Type.Optional(Type.Array(Type.String())),
    denyList: Type.Optional(Type.Array(Type.String())),
    maxTries: Type.Optional(Type.Integer({ minimum: 1 })),
    taskTimeout: Type.Optional(Type.Integer({ minimum: 0 })),
    taskTimeoutAction: Type.Optional(TaskTimeoutAction),
    jobTimeout: Type.Optional(Type.Integer({ minimum: 0 })),
    dependencies: Type.Optional(
      Type.Array(Type.Integer({ minimum: 1 }), {
        maxItems: 10_000,
        description:
          'Replaces the ids of the jobs this job waits on ([] for none). Every id must exist, not be the job itself, and not wait on this job (directly or through others). A PENDING job waiting on dependencies whose new ones are all complete is released; a QUEUED job whose tasks are all still queued that gets an incomplete one goes back to PENDING; any other job keeps its state.',
      }),
    ),
    schedule: Type.Optional(
      Type.Union([Schedule, Type.Null()], {
        description:
          'Replaces the schedule (null removes it). The job goes where the new schedule says it should be now: PENDING on SCHEDULE released or a job the schedule suspended resumed if the window is open; if it is closed, a QUEUED job none of whose tasks started waits PENDING on SCHEDULE and a QUEUED or RUNNING one is suspended. A job suspended or pended by hand keeps its state.',
      }),
    ),
  },
  { additionalProperties: false, minProperties: 1 },
);

const time = (field: string, value: string | undefined): number | undefined => {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw invalid(`${field} must be an ISO-8601 date-time`, { field });
  return ms;
};

/** A schedule from the API: a once schedule's date-times become instants. */
function scheduleInput(schedule: Static<typeof Schedule>): ScheduleInput {
  const { start, stop, ...rest } = schedule;
  return {
    ...rest,
    ...(start !== undefined ? { start: time('schedule.start', start)! } : {}),
    ...(stop !== undefined ? { stop: time('schedule.stop', stop)! } : {}),
  };
}

function parseSort(text: string | undefined): JobSort[] {
  if (!text) return [{ field: 'id', direction: 'desc' }];
  return text.split(',').map((part) => {
    const direction = part.startsWith('-') ? 'desc' : 'asc';
    const field = part.replace(/^[-+]/, '');
    if (!(JOB_SORT_FIELDS as readonly string[]).includes(field)) {
      throw invalid(`cannot sort by "${field}"; use ${JOB_SORT_FIELDS.join(', ')}`, {
        field: 'sort',
      });
    }
    return { field: field as JobSortField, direction };
  });
}

export function jobRoutes(engine: Engine): FastifyPluginAsyncTypebox {
  const { ctx } = engine;
  return async (app) => {
    app.addHook('preHandler', requireRole('user'));

    app.post(
      '/jobs',
      {
        schema: {
          tags: ['jobs'],
          summary: 'Submit a job; its tasks are created in the same transaction',
          body: SubmitBody,
          response: { 201: Job, ...errorResponses },
        },
      },
      async (request, reply) => {
        const body = request.body;
        const principal = request.principal!;
        if (body.user && body.user !== principal.name && principal.role !== 'admin') {
          throw new DroverError('FORBIDDEN', 'only admins may submit jobs for another user');
        }
        const { scheduledAt, schedule, user, ...rest } = body;
        const id = await submitJob(ctx, {
          ...rest,
          user: user ?? principal.name,
          ...(scheduledAt !== undefined ? { scheduledAt: time('scheduledAt', scheduledAt)! } : {}),
          ...(schedule !== undefined ? { schedule: scheduleInput(schedule) } : {}),
        });
        const detail = await getJobDetail(ctx, id);
        void reply.status(201).header('Location', `/api/v1/jobs/${id}`);
        return jobJson(detail.job, detail.type, detail);
      },
    );

    app.get(
      '/jobs',
      {
        schema: {
          tags: ['jobs'],
          summary: 'List jobs with filters, sort and pagination',
          querystring: ListQuery,
          response: { 200: pageOf(Job), ...errorResponses },
        },
      },
      async (request) => {
        const q = request.query;
        const limit = q.limit ?? 50;
        const offset = q.offset ?? 0;
        let jobTypeIds: number[] | undefined;
        const typeNames = list(q.type);
        if (typeNames?.length) {
          const found = await Promise.all(typeNames.map((n) => findJobTypeByName(ctx.db, n)));
          jobTypeIds = found.filter((t) => t !== undefined).map((t) => t.id);
        }
        const states = list(q.state)?.map((s) => s.toUpperCase());
        for (const s of states ?? []) {
          if (!JobState.anyOf.some((l) => l.const === s)) {
            throw invalid(`unknown state "${s}"`, { field: 'state' });
          }
        }
        const { rows, total } = await listJobs(
          ctx.db,
          {
            ...(states ? { states } : {}),
            ...(list(q.user) ? { users: list(q.user)! } : {}),
            ...(jobTypeIds ? { jobTypeIds } : {}),
            ...(list(q.pool) ? { pools: list(q.pool)! } : {}),
            ...(list(q.group) ? { groups: list(q.group)! } : {}),
            ...(q.batch ? { batchIds: q.batch } : {}),
            ...(q.q ? { text: q.q } : {}),
            createdAfter: time('createdAfter', q.createdAfter),
            createdBefore: time('createdBefore', q.createdBefore),
            startedAfter: time('startedAfter', q.startedAfter),
            startedBefore: time('startedBefore', q.startedBefore),
            endedAfter: time('endedAfter', q.endedAfter),
            endedBefore: time('endedBefore', q.endedBefore),
            deleted: q.deleted ?? 'exclude',
          },
          parseSort(q.sort),
          { limit, offset },
        );
        const types = new Map<number, { id: number; name: string; version: string }>();
        for (const id of new Set(rows.map((r) => r.job_type_id))) {
          const t = await findJobType(ctx.db, id);
          if (t) types.set(id, t);
        }
        return {
          items: rows.map((r) => jobJson(r, types.get(r.job_type_id)!)),
          total,
          limit,
          offset,
        };
      },
    );

    app.get(
      '/jobs/:id',
      {
        schema: {
          tags: ['jobs'],
          summary: 'One job',
          params: IdParams,
          response: { 200: Job, ...errorResponses },
        },
      },
      async (request) => {
        const d = await getJobDetail(ctx, request.params.id);
        return jobJson(d.job, d.type, d);
      },
    );

    app.patch(
      '/jobs/:id',
      {
        schema: {
          tags: ['jobs'],
          summary:
            'Change settings of a job (priority, pool, machine limit, lists, dependencies, schedule, …)',
          params: IdParams,
          body: UpdateBody,
          response: { 200: Job, ...errorResponses },
        },
      },
      async (request) => {
        const { schedule, ...rest } = request.body;
        await updateJobSettings(ctx, request.params.id, {
          ...rest,
          ...(schedule !== undefined
            ? { schedule: schedule === null ? null : scheduleInput(schedule) }
            : {}),
        });
        const d = await getJobDetail(ctx, request.params.id);
        return jobJson(d.job, d.type, d);
      },
    );

    app.post(
      '/jobs/:id/:action',
      {
        schema: {
          tags: ['jobs'],
          summary: 'Apply an action to a job and its tasks',
          description:
            'suspend (running tasks stop), suspend-queued (running tasks finish), resume, resume-failed, requeue, pend, release, cancel, complete, fail, undelete.',
          params: Type.Object({
            id: Type.Integer({ minimum: 1 }),
            action: Type.Union([...JOB_ACTIONS, 'undelete'].map((a) => Type.Literal(a))),
          }),
          response: { 200: Job, ...errorResponses },
        },
      },
      async (request) => {
        const { id, action } = request.params;
        if (action === 'undelete') await undeleteJob(ctx, id);
        else await applyJobAction(ctx, id, action as (typeof JOB_ACTIONS)[number]);
        const d = await getJobDetail(ctx, id);
        return jobJson(d.job, d.type, d);
      },
    );

    app.delete(
      '/jobs/:id',
      {
        schema: {
          tags: ['jobs'],
          summary: 'Delete a job (soft; undelete restores it), or purge a deleted one for good',
          params: IdParams,
          querystring: Type.Object({ purge: Type.Optional(Type.Boolean()) }),
          response: { 204: Type.Null(), ...errorResponses },
        },
      },
      async (request, reply) => {
        if (request.query.purge) await purgeJob(ctx, request.params.id);
        else await deleteJob(ctx, request.params.id);
        return reply.status(204).send(null);
      },
    );

    app.get(
      '/jobs/:id/waiting-reasons',
      {
        schema: {
          tags: ['jobs'],
          summary: 'Why a waiting job is not running',
          params: IdParams,
          response: {
            200: Type.Object({
              reasons: Type.Array(Type.Object({ code: Type.String(), message: Type.String() })),
            }),
            ...errorResponses,
          },
        },
      },
      async (request) => ({ reasons: await waitingReasons(ctx, request.params.id) }),
    );
  };
}
