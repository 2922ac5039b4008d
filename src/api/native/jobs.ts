import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import { DroverError, invalid } from '../../domain/errors.js';
import {
  JOB_BOUNDS,
  MAX_DEPENDENCIES,
  MAX_FRAME_OFFSET,
  MAX_ID,
  MAX_TARGET_TASK_SECONDS,
} from '../../domain/job-bounds.js';
import type { ScheduleInput } from '../../domain/job-schedule.js';
import { LIMIT_NAME_PATTERN, MAX_LIMITS_PER_JOB } from '../../domain/limits.js';
import { assertMayProtectJob } from '../../engine/accounts/permissions.js';
import type { Engine } from '../../engine/engine.js';
import {
  applyJobAction,
  deleteJob,
  JOB_ACTIONS,
  purgeJob,
  undeleteJob,
  updateJobSettings,
} from '../../engine/jobs/job-actions.js';
import { submitJob } from '../../engine/jobs/job-submission.js';
import { waitingReasons } from '../../engine/jobs/waiting-reasons.js';
import { getJobDetail } from '../../engine/queries.js';
import { MAX_TEMPLATE_BYTES } from '../../formats/openjd/job-template.js';
import { submitOpenjdJob } from '../../formats/openjd/openjd-jobs.js';
import { nativeHostRequirement } from '../../formats/openjd/step-requirements.js';
import { time } from './job-list.js';
import {
  HostRequirements,
  Job,
  JobLabels,
  MachineLimitRelease,
  RetryDelayInput,
  RetryRules,
  Resources,
  OnDependencyFailure,
  Schedule,
  TaskTimeoutAction,
} from './job-schemas.js';
import { jobJson } from './representations.js';
import { errorResponses, IdParams } from './schemas.js';

const SubmitBody = Type.Object(
  {
    type: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'Job type name, e.g. command-line; required unless a template is given',
      }),
    ),
    template: Type.Optional(
      Type.Union([Type.String({ maxLength: MAX_TEMPLATE_BYTES }), Type.Object({})], {
        description:
          'An Open Job Description job template (jobtemplate-2023-09), as JSON or YAML text or as an object, instead of type: parameters are then its job parameter values, and its steps become child jobs (docs/openjd.md)',
      }),
    ),
    typeVersion: Type.Optional(Type.String()),
    name: Type.Optional(Type.String({ maxLength: 500 })),
    user: Type.Optional(Type.String({ minLength: 1, description: 'Admins may submit for others' })),
    comment: Type.Optional(Type.String()),
    ...JobLabels,
    priority: Type.Optional(
      Type.Integer({ ...JOB_BOUNDS.priority, description: 'Higher runs first; default 50' }),
    ),
    pool: Type.Optional(Type.String()),
    group: Type.Optional(Type.String()),
    frames: Type.Optional(Type.String({ description: 'Deadline frame list, e.g. 1-100x5' })),
    chunkSize: Type.Optional(Type.Integer(JOB_BOUNDS.chunkSize)),
    inputs: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    parameters: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    machineLimit: Type.Optional(Type.Integer(JOB_BOUNDS.machineLimit)),
    machineLimitRelease: Type.Optional(MachineLimitRelease),
    allowList: Type.Optional(Type.Array(Type.String())),
    denyList: Type.Optional(Type.Array(Type.String())),
    limits: Type.Optional(
      Type.Array(Type.String({ pattern: LIMIT_NAME_PATTERN }), {
        maxItems: MAX_LIMITS_PER_JOB,
        description:
          'Names of limits (licences) each running task takes; each must exist (POST /api/v1/limits)',
      }),
    ),
    resources: Type.Optional(Type.Partial(Resources)),
    hostRequirements: Type.Optional(HostRequirements),
    taskTimeout: Type.Optional(
      Type.Integer({ ...JOB_BOUNDS.taskTimeout, description: 'Seconds; 0 = none' }),
    ),
    taskTimeoutAction: Type.Optional(TaskTimeoutAction),
    jobTimeout: Type.Optional(
      Type.Integer({ ...JOB_BOUNDS.jobTimeout, description: 'Seconds; 0 = none' }),
    ),
    maxTries: Type.Optional(Type.Integer(JOB_BOUNDS.maxTries)),
    retryDelay: Type.Optional(RetryDelayInput),
    retryRules: Type.Optional(RetryRules),
    badNodeFailures: Type.Optional(
      Type.Integer({
        ...JOB_BOUNDS.badNodeFailures,
        description:
          'Failures of the job on one node after which the node stops taking it (default 3; 0: never)',
      }),
    ),
    dependencies: Type.Optional(
      Type.Array(Type.Integer({ minimum: 1, maximum: MAX_ID }), { maxItems: MAX_DEPENDENCIES }),
    ),
    onDependencyFailure: Type.Optional(OnDependencyFailure),
    frameDependent: Type.Optional(
      Type.Boolean({
        description:
          "Wait on the dependencies frame by frame (Deadline's IsFrameDependent): the job is queued, and each task is held only until the dependencies' tasks covering its frames complete",
      }),
    ),
    frameOffsetStart: Type.Optional(
      Type.Integer({
        minimum: -MAX_FRAME_OFFSET,
        maximum: MAX_FRAME_OFFSET,
        description:
          "With frameDependent: frame N waits for frames N+frameOffsetStart to N+frameOffsetEnd of the dependencies (Deadline's FrameDependencyOffsetStart); default 0",
      }),
    ),
    frameOffsetEnd: Type.Optional(
      Type.Integer({
        minimum: -MAX_FRAME_OFFSET,
        maximum: MAX_FRAME_OFFSET,
        description: "Deadline's FrameDependencyOffsetEnd; default 0",
      }),
    ),
    targetTaskSeconds: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: MAX_TARGET_TASK_SECONDS,
        description:
          'Adaptive chunking: the first tasks take chunkSize frames, then the tasks no node has taken are re-chunked toward this duration, measured from the tasks completed so far; 0: fixed chunks',
      }),
    ),
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
    protected: Type.Optional(
      Type.Boolean({
        description: 'Only the owner or an admin may then delete, purge or archive it',
      }),
    ),
  },
  { additionalProperties: false },
);

const UpdateBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1 })),
    protected: Type.Optional(
      Type.Boolean({
        description:
          'Only the owner or an admin may delete, purge or archive a protected job, and only they may set or clear this',
      }),
    ),
    comment: Type.Optional(Type.String()),
    ...JobLabels,
    priority: Type.Optional(Type.Integer(JOB_BOUNDS.priority)),
    pool: Type.Optional(Type.String()),
    group: Type.Optional(Type.String()),
    machineLimit: Type.Optional(Type.Integer(JOB_BOUNDS.machineLimit)),
    machineLimitRelease: Type.Optional(MachineLimitRelease),
    allowList: Type.Optional(Type.Array(Type.String())),
    denyList: Type.Optional(Type.Array(Type.String())),
    limits: Type.Optional(
      Type.Array(Type.String({ pattern: LIMIT_NAME_PATTERN }), {
        maxItems: MAX_LIMITS_PER_JOB,
        description:
          'Replaces the names of limits (licences) each running task takes; [] for none; each must exist (POST /api/v1/limits)',
      }),
    ),
    maxTries: Type.Optional(Type.Integer(JOB_BOUNDS.maxTries)),
    retryDelay: Type.Optional(RetryDelayInput),
    retryRules: Type.Optional(
      Type.Union([RetryRules, Type.Null()], {
        description:
          "Replaces the job's own retry rules from its next failure on; [] for none; null: its type's again",
      }),
    ),
    badNodeFailures: Type.Optional(
      Type.Integer({
        ...JOB_BOUNDS.badNodeFailures,
        description:
          'Failures of the job on one node after which the node stops taking it (default 3; 0: never)',
      }),
    ),
    taskTimeout: Type.Optional(Type.Integer(JOB_BOUNDS.taskTimeout)),
    taskTimeoutAction: Type.Optional(TaskTimeoutAction),
    jobTimeout: Type.Optional(Type.Integer(JOB_BOUNDS.jobTimeout)),
    dependencies: Type.Optional(
      Type.Array(Type.Integer({ minimum: 1, maximum: MAX_ID }), {
        maxItems: MAX_DEPENDENCIES,
        description:
          'Replaces the ids of the jobs this job waits on ([] for none). Every id must exist, not be the job itself, and not wait on this job (directly or through others). A PENDING job waiting on dependencies whose new ones are all complete is released; a QUEUED job whose tasks are all still queued that gets an incomplete one goes back to PENDING; any other job keeps its state.',
      }),
    ),
    onDependencyFailure: Type.Optional(
      Type.Union([Type.Literal('CANCEL'), Type.Literal('WAIT'), Type.Literal('RUN')], {
        description:
          'A new policy for a failed or canceled dependency, applied at once to a job PENDING on one (CANCEL cancels it, RUN releases it); on a parent, to its children too',
      }),
    ),
    schedule: Type.Optional(
      Type.Union([Schedule, Type.Null()], {
        description:
          'Replaces the schedule (null removes it). The job goes where the new schedule says it should be now: PENDING on SCHEDULE released or a job the schedule suspended resumed if the window is open; if it is closed, a QUEUED job none of whose tasks started waits PENDING on SCHEDULE and a QUEUED or RUNNING one is suspended. A job suspended or pended by hand keeps its state. On a parent (a multi-step job), every step takes it and moves so, in the same transaction; the parent shows it.',
      }),
    ),
  },
  { additionalProperties: false, minProperties: 1 },
);

/** What an OpenJD template says itself, so a submission with one may not give it. */
const TEMPLATE_DEFINES = [
  'typeVersion',
  'frames',
  'chunkSize',
  'targetTaskSeconds',
  'inputs',
  'resources',
  'hostRequirements',
  'taskTimeout',
] as const;

/** A schedule from the API: a once schedule's date-times become instants. */
function scheduleInput(schedule: Static<typeof Schedule>): ScheduleInput {
  const { start, stop, ...rest } = schedule;
  return {
    ...rest,
    ...(start !== undefined ? { start: time('schedule.start', start)! } : {}),
    ...(stop !== undefined ? { stop: time('schedule.stop', stop)! } : {}),
  };
}

export function jobRoutes(engine: Engine): FastifyPluginAsyncTypebox {
  const { ctx } = engine;
  return async (app) => {
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
        const {
          scheduledAt,
          schedule,
          user,
          template,
          type,
          parameters,
          hostRequirements,
          ...rest
        } = body;
        const common = {
          ...rest,
          user: user ?? principal.name,
          ...(scheduledAt !== undefined ? { scheduledAt: time('scheduledAt', scheduledAt)! } : {}),
          ...(schedule !== undefined ? { schedule: scheduleInput(schedule) } : {}),
        };
        let id: number;
        if (template !== undefined) {
          const own = TEMPLATE_DEFINES.filter((k) => body[k] !== undefined);
          if (type !== undefined || own.length > 0) {
            throw invalid(
              `with a template, give none of ${['type', ...own].join(', ')}: the template defines them`,
              { field: type !== undefined ? 'type' : own[0] },
            );
          }
          id = await submitOpenjdJob(ctx, {
            template,
            ...(parameters !== undefined ? { parameters } : {}),
            settings: common,
          });
        } else if (type === undefined) {
          throw invalid('give a job type (type) or an OpenJD job template (template)', {
            field: 'type',
          });
        } else {
          id = await submitJob(ctx, {
            ...common,
            type,
            hostRequirement: nativeHostRequirement(hostRequirements),
            ...(parameters !== undefined ? { parameters } : {}),
          });
        }
        const detail = await getJobDetail(ctx, id);
        void reply.status(201).header('Location', `/api/v1/jobs/${id}`);
        return jobJson(detail.job, detail.type, detail);
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
        if (rest.protected !== undefined) {
          await assertMayProtectJob(ctx, request.principal, request.params.id, rest.protected);
        }
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
            id: Type.Integer({ minimum: 1, maximum: MAX_ID }),
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
