import type { JobRow } from '../../store/schema.js';
import type { JobStateCondition } from './job-list.js';

/*
 * Scale's job statuses against Drover's engine, both ways, in one table. A row reads
 * "a job in engine state S (with these refinements) is shown to Scale as STATUS"; a Scale
 * status filter selects every row of that status. Tests cover each row.
 *
 * - BLOCKED is Scale's "a job it depends on failed or was canceled", and a SUSPENDED
 *   Drover job (held by an operator, it cannot proceed until resumed): Scale has no
 *   suspension of single jobs.
 * - A RUNNING Drover job none of whose tasks runs is waiting for a retry: QUEUED to Scale,
 *   which queues a job again (new execution) after a retryable failure. A multi-step job
 *   (no tasks of its own: its steps are the jobs of its recipe) that is RUNNING is RUNNING.
 */
export const SCALE_STATUSES = [
  'PENDING',
  'BLOCKED',
  'QUEUED',
  'RUNNING',
  'FAILED',
  'COMPLETED',
  'CANCELED',
] as const;
export type ScaleStatus = (typeof SCALE_STATUSES)[number];

export const STATUS_TABLE: readonly (JobStateCondition & { scale: ScaleStatus })[] = [
  { state: 'PENDING', blocked: false, scale: 'PENDING' },
  { state: 'PENDING', blocked: true, scale: 'BLOCKED' },
  { state: 'SUSPENDED', scale: 'BLOCKED' },
  { state: 'QUEUED', scale: 'QUEUED' },
  { state: 'RUNNING', runningTasks: false, scale: 'QUEUED' },
  { state: 'RUNNING', runningTasks: true, scale: 'RUNNING' },
  { state: 'COMPLETED', scale: 'COMPLETED' },
  { state: 'FAILED', scale: 'FAILED' },
  { state: 'CANCELED', scale: 'CANCELED' },
];

/** The engine conditions of some Scale statuses (unknown names simply match nothing). */
export function conditionsOf(statuses: readonly string[]): JobStateCondition[] {
  return STATUS_TABLE.filter((row) => statuses.includes(row.scale)).map(
    ({ scale: _scale, ...condition }) => condition,
  );
}

/** How Scale sees a job; `blocked`: a job it depends on FAILED or was CANCELED. */
export function scaleStatusOf(job: JobRow, blocked: boolean): ScaleStatus {
  const row = STATUS_TABLE.find(
    (r) =>
      r.state === job.state &&
      (r.blocked === undefined || r.blocked === blocked) &&
      (r.runningTasks === undefined ||
        r.runningTasks === (job.tasks_running > 0 || job.task_count === 0)),
  );
  return row?.scale ?? 'PENDING';
}

/** Scale's execution statuses: an execution without an end is RUNNING. */
export const EXECUTION_STATUS_TABLE: Record<
  string,
  'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELED'
> = {
  ACQUIRED: 'RUNNING',
  RUNNING: 'RUNNING',
  COMPLETED: 'COMPLETED',
  FAILED: 'FAILED',
  CANCELED: 'CANCELED',
  // Given back before it started: it ended without running.
  RELEASED: 'CANCELED',
};

export function executionStatesOf(statuses: readonly string[]): string[] {
  return Object.entries(EXECUTION_STATUS_TABLE)
    .filter(([, scale]) => statuses.includes(scale))
    .map(([state]) => state);
}

/**
 * Scale counts queueings: the execution numbers the engine spent (claims, and queueings
 * that ended before a node took them) plus the queueings still waiting for a node.
 */
export function scaleNumExes(job: JobRow): number {
  return job.num_exes + job.tasks_queued;
}
