import { call, drover } from './client';
import type { JobAction, TaskAction } from './types';

/*
 * One function per native route the UI uses, each a typed DroverClient call: the paths,
 * parameters, bodies and answers are checked against the server's OpenAPI document.
 */

export interface JobQuery {
  state?: string[];
  type?: string[];
  user?: string[];
  pool?: string[];
  project?: string[];
  q?: string;
  createdAfter?: string;
  createdBefore?: string;
  startedAfter?: string;
  startedBefore?: string;
  endedAfter?: string;
  endedBefore?: string;
  dependsOn?: number;
  dependencyOf?: number;
  /** Only the child jobs (the steps) of this parent job. */
  parent?: number;
  deleted?: 'exclude' | 'include' | 'only';
  sort?: string;
  limit?: number;
  offset?: number;
}

/** The job list's filters as the server takes them: lists comma-joined, empty ones left out. */
function jobListQuery(q: JobQuery) {
  const text = (value: string | undefined) => (value ? value : undefined);
  const list = (values: string[] | undefined) => (values?.length ? values.join(',') : undefined);
  return {
    state: list(q.state),
    type: list(q.type),
    user: list(q.user),
    pool: list(q.pool),
    project: list(q.project),
    q: text(q.q),
    createdAfter: text(q.createdAfter),
    createdBefore: text(q.createdBefore),
    startedAfter: text(q.startedAfter),
    startedBefore: text(q.startedBefore),
    endedAfter: text(q.endedAfter),
    endedBefore: text(q.endedBefore),
    dependsOn: q.dependsOn,
    dependencyOf: q.dependencyOf,
    parent: q.parent,
    deleted: q.deleted,
    sort: text(q.sort),
    limit: q.limit,
    offset: q.offset,
  };
}

const id = (value: number) => ({ path: { id: value } });

export const api = {
  jobs: (q: JobQuery, signal?: AbortSignal) =>
    call(
      drover.get('/api/v1/jobs', {
        params: { query: jobListQuery(q) },
        ...(signal ? { signal } : {}),
      }),
    ),
  job: (jobId: number) => call(drover.get('/api/v1/jobs/{id}', { params: id(jobId) })),
  submit: (body: Record<string, unknown>) =>
    // The submit form builds the body from the job type's own interface, field by field.
    call(drover.post('/api/v1/jobs', { body: body as never })),
  jobAction: (jobId: number, action: JobAction) =>
    call(drover.post('/api/v1/jobs/{id}/{action}', { params: { path: { id: jobId, action } } })),
  setPriority: (jobId: number, priority: number) =>
    call(drover.patch('/api/v1/jobs/{id}', { params: id(jobId), body: { priority } })),
  updateJob: (jobId: number, changes: Record<string, unknown>) =>
    call(drover.patch('/api/v1/jobs/{id}', { params: id(jobId), body: changes })),
  deleteJob: async (jobId: number, purge = false): Promise<void> => {
    await call(
      drover.delete('/api/v1/jobs/{id}', {
        params: { path: { id: jobId }, query: purge ? { purge: true } : {} },
      }),
    );
  },
  waitingReasons: (jobId: number) =>
    call(drover.get('/api/v1/jobs/{id}/waiting-reasons', { params: id(jobId) })),
  tasks: (jobId: number, offset: number, limit = 1000) =>
    call(
      drover.get('/api/v1/jobs/{id}/tasks', {
        params: { path: { id: jobId }, query: { offset, limit } },
      }),
    ),
  failedTasks: (jobId: number, limit = 1) =>
    call(
      drover.get('/api/v1/jobs/{id}/tasks', {
        params: { path: { id: jobId }, query: { state: ['FAILED'], limit } },
      }),
    ),
  logRange: (executionId: number, from: number, limit: number) =>
    call(
      drover.get('/api/v1/executions/{id}/logs', {
        params: { path: { id: executionId }, query: { from, limit } },
      }),
    ),
  taskAction: (taskId: number, action: TaskAction) =>
    call(drover.post('/api/v1/tasks/{id}/{action}', { params: { path: { id: taskId, action } } })),
  executions: (filter: { job?: number; task?: number; node?: number }, offset = 0, limit = 50) =>
    call(drover.get('/api/v1/executions', { params: { query: { ...filter, offset, limit } } })),
  execution: (executionId: number) =>
    call(drover.get('/api/v1/executions/{id}', { params: id(executionId) })),
  logs: (executionId: number, from: number, follow: boolean, signal: AbortSignal) =>
    call(
      drover.get('/api/v1/executions/{id}/logs', {
        params: {
          path: { id: executionId },
          query: follow ? { from, limit: 2000, follow, wait: 20 } : { from, limit: 2000 },
        },
        signal,
      }),
    ),
  outputs: (jobId: number) =>
    call(
      drover.get('/api/v1/jobs/{id}/outputs', {
        params: { path: { id: jobId }, query: { limit: 1000 } },
      }),
    ),
  nodes: (offset = 0, limit = 100) =>
    call(drover.get('/api/v1/nodes', { params: { query: { offset, limit } } })),
  task: (taskId: number) => call(drover.get('/api/v1/tasks/{id}', { params: id(taskId) })),
  telemetry: (nodeId: number, from: string, limit: number) =>
    call(
      drover.get('/api/v1/nodes/{id}/telemetry', {
        params: { path: { id: nodeId }, query: { step: '10s', from, limit } },
      }),
    ),
  whoami: () => call(drover.get('/api/v1/whoami')),
  setNodeEnabled: (nodeId: number, enabled: boolean) =>
    call(
      enabled
        ? drover.post('/api/v1/nodes/{id}/enable', { params: id(nodeId) })
        : drover.post('/api/v1/nodes/{id}/disable', { params: id(nodeId) }),
    ),
  jobTypes: () => call(drover.get('/api/v1/job-types', { params: { query: { limit: 1000 } } })),
  jobTypeRevisions: (typeId: number) =>
    call(
      drover.get('/api/v1/job-types/{id}/revisions', {
        params: { path: { id: typeId }, query: { limit: 1000 } },
      }),
    ),
  counts: () => call(drover.get('/api/v1/stats/counts')),
  audit: (jobId: number, limit = 50) =>
    call(drover.get('/api/v1/audit', { params: { query: { jobId, limit } } })),
  jobStats: (ids: number[]) =>
    call(drover.get('/api/v1/stats/jobs', { params: { query: { ids: ids.join(',') } } })),
  throughput: (minutes = 60) =>
    call(drover.get('/api/v1/stats/throughput', { params: { query: { minutes } } })),
};
