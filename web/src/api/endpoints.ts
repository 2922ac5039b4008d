import { query, request } from './client';
import type {
  AuditEvent,
  Counts,
  DroverNode,
  Execution,
  Job,
  JobAction,
  JobStats,
  JobType,
  JobTypeRevision,
  LogPage,
  Output,
  Page,
  Task,
  TaskAction,
  TelemetryPoint,
  Throughput,
  WaitingReason,
  Whoami,
} from './types';

/* One function per native route the UI uses. */

export interface JobQuery {
  state?: string[];
  type?: string[];
  user?: string[];
  pool?: string[];
  q?: string;
  createdAfter?: string;
  createdBefore?: string;
  startedAfter?: string;
  startedBefore?: string;
  endedAfter?: string;
  endedBefore?: string;
  dependsOn?: number;
  dependencyOf?: number;
  deleted?: 'exclude' | 'include' | 'only';
  sort?: string;
  limit?: number;
  offset?: number;
}

export const api = {
  jobs: (q: JobQuery, signal?: AbortSignal) =>
    request<Page<Job>>('GET', `/jobs${query({ ...q })}`, undefined, signal ? { signal } : {}),
  job: (id: number) => request<Job>('GET', `/jobs/${id}`),
  submit: (body: Record<string, unknown>) => request<Job>('POST', '/jobs', body),
  jobAction: (id: number, action: JobAction) => request<Job>('POST', `/jobs/${id}/${action}`),
  setPriority: (id: number, priority: number) => request<Job>('PATCH', `/jobs/${id}`, { priority }),
  updateJob: (id: number, changes: Record<string, unknown>) =>
    request<Job>('PATCH', `/jobs/${id}`, changes),
  deleteJob: (id: number, purge = false) =>
    request<void>('DELETE', `/jobs/${id}${purge ? '?purge=true' : ''}`),
  waitingReasons: (id: number) =>
    request<{ reasons: WaitingReason[] }>('GET', `/jobs/${id}/waiting-reasons`),
  tasks: (jobId: number, offset: number, limit = 1000) =>
    request<Page<Task>>('GET', `/jobs/${jobId}/tasks${query({ offset, limit })}`),
  failedTasks: (jobId: number, limit = 1) =>
    request<Page<Task>>('GET', `/jobs/${jobId}/tasks${query({ state: ['FAILED'], limit })}`),
  logRange: (id: number, from: number, limit: number) =>
    request<LogPage>('GET', `/executions/${id}/logs${query({ from, limit })}`),
  taskAction: (taskId: number, action: TaskAction) =>
    request<Task>('POST', `/tasks/${taskId}/${action}`),
  executions: (filter: { job?: number; task?: number; node?: number }, offset = 0, limit = 50) =>
    request<Page<Execution>>('GET', `/executions${query({ ...filter, offset, limit })}`),
  execution: (id: number) => request<Execution>('GET', `/executions/${id}`),
  logs: (id: number, from: number, follow: boolean, signal: AbortSignal) =>
    request<LogPage>(
      'GET',
      `/executions/${id}/logs${query({ from, limit: 2000, follow: follow || undefined, wait: follow ? 20 : undefined })}`,
      undefined,
      { signal },
    ),
  outputs: (jobId: number) => request<{ items: Output[] }>('GET', `/jobs/${jobId}/outputs`),
  nodes: (offset = 0, limit = 100) =>
    request<Page<DroverNode>>('GET', `/nodes${query({ offset, limit })}`),
  task: (id: number) => request<Task>('GET', `/tasks/${id}`),
  telemetry: (nodeId: number, from: string, limit: number) =>
    request<{ step: string; items: TelemetryPoint[] }>(
      'GET',
      `/nodes/${nodeId}/telemetry${query({ step: '10s', from, limit })}`,
    ),
  whoami: () => request<Whoami>('GET', '/whoami'),
  setNodeEnabled: (id: number, enabled: boolean) =>
    request<DroverNode>('POST', `/nodes/${id}/${enabled ? 'enable' : 'disable'}`),
  jobTypes: () => request<Page<JobType>>('GET', '/job-types?limit=1000'),
  jobTypeRevisions: (id: number) => request<JobTypeRevision[]>('GET', `/job-types/${id}/revisions`),
  counts: () => request<Counts>('GET', '/stats/counts'),
  audit: (jobId: number, limit = 50) =>
    request<{ items: AuditEvent[] }>('GET', `/audit${query({ jobId, limit })}`),
  jobStats: (ids: number[]) =>
    request<{ items: JobStats[] }>('GET', `/stats/jobs${query({ ids: ids.join(',') })}`),
  throughput: (minutes = 60) => request<Throughput>('GET', `/stats/throughput?minutes=${minutes}`),
};
