import type { ExecutionState } from '../../domain/execution-state.js';
import type { JobState } from '../../domain/job-state.js';
import type { TaskState } from '../../domain/task-state.js';
import type { TaskTimeoutAction } from '../../domain/task-timeout-action.js';

/*
 * The one table between Drover's states and Deadline's numeric codes (seed "Job Property
 * Values"; reference §3, §4). Deadline has no "canceled": a canceled job or task will not
 * finish by itself, which is what Deadline shows as Failed, so it reads as Failed here and
 * `resumefailed`/`requeue` bring it back.
 */

export const JOB_STAT = {
  UNKNOWN: 0,
  ACTIVE: 1,
  SUSPENDED: 2,
  COMPLETED: 3,
  FAILED: 4,
  PENDING: 6,
} as const;

export const JOB_STAT_OF: Record<JobState, number> = {
  PENDING: JOB_STAT.PENDING,
  QUEUED: JOB_STAT.ACTIVE,
  RUNNING: JOB_STAT.ACTIVE,
  SUSPENDED: JOB_STAT.SUSPENDED,
  COMPLETED: JOB_STAT.COMPLETED,
  FAILED: JOB_STAT.FAILED,
  CANCELED: JOB_STAT.FAILED,
};

/** `?States=` names (case-insensitive) and the Drover states each one covers. */
export const STATES_OF_NAME: Record<string, JobState[]> = {
  active: ['QUEUED', 'RUNNING'],
  suspended: ['SUSPENDED'],
  completed: ['COMPLETED'],
  failed: ['FAILED', 'CANCELED'],
  pending: ['PENDING'],
};

/** Status text of the Job Details panel. */
export const JOB_STATUS_TEXT: Record<JobState, string> = {
  PENDING: 'Pending',
  QUEUED: 'Queued',
  RUNNING: 'Rendering',
  SUSPENDED: 'Suspended',
  COMPLETED: 'Completed',
  FAILED: 'Failed',
  CANCELED: 'Failed',
};

export const TASK_STAT = {
  UNKNOWN: 1,
  QUEUED: 2,
  SUSPENDED: 3,
  RENDERING: 4,
  COMPLETED: 5,
  FAILED: 6,
  PENDING: 8,
} as const;

export const TASK_STAT_OF: Record<TaskState, number> = {
  PENDING: TASK_STAT.PENDING,
  QUEUED: TASK_STAT.QUEUED,
  RUNNING: TASK_STAT.RENDERING,
  SUSPENDED: TASK_STAT.SUSPENDED,
  COMPLETED: TASK_STAT.COMPLETED,
  FAILED: TASK_STAT.FAILED,
  CANCELED: TASK_STAT.FAILED,
};

/** A job or task report's `Type` (go-deadline-api, after the docs' report property values). */
export const REPORT_TYPE = { LOG: 0, ERROR: 1, REQUEUE: 2 } as const;

/**
 * The report an ended execution is: a completed one is the log of its render, a failed one
 * an error. One the server withdrew (requeue, suspend, fail or cancel while it ran) or the
 * node gave back is a requeue, and so is a failure the reaper wrote for a lost node
 * (REQUEUE_ERROR_NAMES), as Deadline requeues the tasks of a stalled worker.
 */
export const REPORT_TYPE_OF: Record<Exclude<ExecutionState, 'ACQUIRED' | 'RUNNING'>, number> = {
  COMPLETED: REPORT_TYPE.LOG,
  FAILED: REPORT_TYPE.ERROR,
  CANCELED: REPORT_TYPE.REQUEUE,
  RELEASED: REPORT_TYPE.REQUEUE,
};
export const REQUEUE_ERROR_NAMES: readonly string[] = ['node-lost'];

/** Props.OnComp: 0 Archive, 1 Delete, 2 Nothing. */
export const ON_COMPLETE_CODES = { archive: 0, delete: 1, nothing: 2 } as const;
export type OnComplete = keyof typeof ON_COMPLETE_CODES;

/**
 * Props.Timeout (OnTaskTimeout): 0 Both (ErrorAndNotify), 1 Error, 2 Notify (reference §3),
 * and 3 Complete. The reference's table predates Complete, which was added to the same enum
 * later; it is taken as the next value, 3 [unverified]. Showing it as 1 (Error) would have
 * made a `save` of the shown Props turn a COMPLETE job into a failing one.
 */
export const ON_TIMEOUT_CODES = { both: 0, error: 1, notify: 2, complete: 3 } as const;
export type OnTaskTimeout = keyof typeof ON_TIMEOUT_CODES;

/** What Drover does on a task timeout for each OnTaskTimeout; nobody is ever notified. */
export const TIMEOUT_ACTION_OF: Record<OnTaskTimeout, TaskTimeoutAction> = {
  both: 'FAIL',
  error: 'FAIL',
  notify: 'NOTIFY',
  complete: 'COMPLETE',
};

/** Props.Schd (ScheduledType): 0 None, 1 Once, 2 Daily, 3 Custom; the engine's schedule kinds. */
export const SCHEDULE_CODES = { none: 0, once: 1, daily: 2, custom: 3 } as const;
export const SCHEDULE_KIND_OF_CODE: Record<number, keyof typeof SCHEDULE_CODES> = {
  0: 'none',
  1: 'once',
  2: 'daily',
  3: 'custom',
};
