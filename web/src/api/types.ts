import type { components, paths } from '../../../src/client/openapi-types';

/*
 * The native API's shapes as the UI reads them: aliases of the types generated from the
 * server's OpenAPI document (src/client/openapi-types.ts), never restated here, so a change
 * of a route schema that the UI does not follow fails `npm run typecheck`.
 */

type Schemas = components['schemas'];
type Json<R> = R extends { content: { 'application/json': infer B } } ? B : never;
/** The JSON body of a route's 200 (or 201) answer. */
export type Ok<
  P extends keyof paths,
  M extends 'get' | 'post' | 'patch' | 'delete',
> = paths[P][M] extends { responses: infer R }
  ? R extends { 200: infer A }
    ? Json<A>
    : R extends { 201: infer B }
      ? Json<B>
      : never
  : never;

export type Job = Schemas['Job'];
export type Task = Schemas['Task'];
export type Execution = Schemas['Execution'];
export type DroverNode = Schemas['Node'];
export type JobType = Schemas['JobType'];
export type Output = Schemas['Output'];

export type JobState = Job['state'];
export type TaskState = Task['state'];
export type TaskCounts = Job['tasks'];
export type Resources = Job['resources'];
export type TaskTimeoutAction = Job['taskTimeoutAction'];
export type JobSchedule = NonNullable<Job['schedule']>;
export type Weekday = keyof NonNullable<JobSchedule['days']>;
export type NodeTelemetry = NonNullable<DroverNode['telemetry']>;

/** A page of a list route; `next` is the link to the page after it, null on the last. */
export type Page<T> = Omit<Ok<'/api/v1/nodes', 'get'>, 'items'> & {
  items: T[];
  /** False when more than 100,000 match and `total` is an estimate (job lists only). */
  totalExact?: boolean;
};
export type JobPage = Ok<'/api/v1/jobs', 'get'>;
export type LogPage = Ok<'/api/v1/executions/{id}/logs', 'get'>;
export type LogLine = LogPage['lines'][number];
export type JobStats = Ok<'/api/v1/stats/jobs', 'get'>['items'][number];
export type TelemetryPoint = Ok<'/api/v1/nodes/{id}/telemetry', 'get'>['items'][number];
export type Whoami = Ok<'/api/v1/whoami', 'get'>;
export type JobTypeRevision = Ok<'/api/v1/job-types/{id}/revisions', 'get'>[number];
export type WaitingReason = Ok<'/api/v1/jobs/{id}/waiting-reasons', 'get'>['reasons'][number];
export type Counts = Ok<'/api/v1/stats/counts', 'get'>;
export type Throughput = Ok<'/api/v1/stats/throughput', 'get'>;
export type AuditEvent = Ok<'/api/v1/audit', 'get'>['items'][number];

/** The values the UI offers; `satisfies` keeps each in step with the generated types. */
export const JOB_STATES = [
  'PENDING',
  'QUEUED',
  'RUNNING',
  'SUSPENDED',
  'COMPLETED',
  'FAILED',
  'CANCELED',
] as const satisfies readonly JobState[];

/** What happens to a task past its job's taskTimeout (src/domain/task-timeout-action.ts). */
export const TASK_TIMEOUT_ACTIONS = [
  'FAIL',
  'COMPLETE',
  'NOTIFY',
] as const satisfies readonly TaskTimeoutAction[];

/**
 * What the server sends on /api/v1/events (src/engine/events/events.ts). The stream is
 * text/event-stream, which OpenAPI does not describe message by message: the one shape the
 * UI states itself.
 */
export type DroverEvent =
  | { type: 'job.created'; jobId: number; state: string }
  | { type: 'job.state'; jobId: number; from: string; to: string }
  | { type: 'job.updated'; jobId: number; fields: string[] }
  | { type: 'job.deleted'; jobId: number; purged: boolean }
  | { type: 'job.undeleted'; jobId: number }
  | {
      type: 'task.state';
      jobId: number;
      taskIds: number[];
      count: number;
      from: string;
      to: string;
    }
  | { type: 'task.progress'; jobId: number; taskId: number; progress: number }
  | {
      type: 'execution.state';
      jobId: number;
      taskId: number;
      executionId: number;
      nodeId: number;
      from: string | null;
      to: string;
    }
  | { type: 'log.appended'; jobId: number; executionId: number; lines: number }
  | { type: 'node.state'; nodeId: number; state: string; enabled: boolean }
  | { type: 'job-type.changed'; jobTypeId: number }
  | { type: 'pool.changed'; name: string }
  | { type: 'retries.unbound'; nodeId: number; count: number }
  | { type: 'audit.recorded'; jobId: number; auditId: number };

type ActionOf<P extends '/api/v1/jobs/{id}/{action}' | '/api/v1/tasks/{id}/{action}'> =
  paths[P]['post']['parameters']['path']['action'];

export const JOB_ACTIONS = [
  'suspend',
  'resume',
  'resume-failed',
  'requeue',
  'cancel',
  'pend',
  'release',
  'undelete',
] as const satisfies readonly ActionOf<'/api/v1/jobs/{id}/{action}'>[];
export type JobAction = (typeof JOB_ACTIONS)[number];

export const TASK_ACTIONS = [
  'requeue',
  'suspend',
  'resume',
  'pend',
  'release',
  'complete',
  'fail',
  'reset',
] as const satisfies readonly ActionOf<'/api/v1/tasks/{id}/{action}'>[];
export type TaskAction = (typeof TASK_ACTIONS)[number];
