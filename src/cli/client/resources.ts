import type { components, paths } from '../../client/openapi-types.js';

/*
 * The shapes the command line reads from the native API: the types generated from the
 * server's OpenAPI document (src/client/openapi-types.ts), so the two cannot drift apart.
 */

type Schemas = components['schemas'];
type Ok<Op> = Op extends { responses: { 200: { content: { 'application/json': infer B } } } }
  ? B
  : never;

export type JobState = Schemas['Job']['state'];

export const FINAL_STATES: readonly string[] = ['COMPLETED', 'FAILED', 'CANCELED'];

export type Page<T> = Omit<Ok<paths['/api/v1/nodes']['get']>, 'items'> & { items: T[] };

export type Job = Schemas['Job'];
export type TaskCounts = Job['tasks'];
export type Task = Schemas['Task'];
export type Execution = Schemas['Execution'];
export type Node = Schemas['Node'];
export type JobType = Schemas['JobType'];
export type Output = Schemas['Output'];
export type Limit = Ok<paths['/api/v1/limits/{name}']['get']>;
export type LogLine = LogPage['lines'][number];

export type LogPage = Ok<paths['/api/v1/executions/{id}/logs']['get']>;
export type WaitingReason = Ok<
  paths['/api/v1/jobs/{id}/waiting-reasons']['get']
>['reasons'][number];
export type SessionWithActions = Ok<paths['/api/v1/sessions/{id}']['get']>;
export type Session = Ok<paths['/api/v1/jobs/{id}/sessions']['get']>['items'][number];
export type SessionLogPage = Ok<paths['/api/v1/sessions/{id}/log']['get']>;
