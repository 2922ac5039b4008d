import type { Phase } from './errors.js';
import type { UfdlJobViewRow } from './job-view.js';

/*
 * UFDL's lifecycle phase of a Drover job, both ways. UFDL derives the phase from
 * start_time, end_time and error_reason; "acquired" is not a phase but `node != null`.
 * A UFDL job is a Drover job with one task; acquire is the dispatch of that task to the
 * node (an ACQUIRED execution), start the execution's start, finish its completion or
 * failure. The store's UFDL columns (store/ufdl-job-list.ts) are the SQL side of this table.
 *
 * | Drover job state            | its task's last execution | UFDL phase | node      | start_time            | end_time | error_reason          |
 * |-----------------------------|---------------------------|------------|-----------|-----------------------|----------|-----------------------|
 * | PENDING, QUEUED, SUSPENDED  | none live                 | CREATED    | null      | null                  | null     | null                  |
 * | RUNNING (retry waiting)     | none live                 | CREATED    | null      | null                  | null     | null                  |
 * | RUNNING                     | ACQUIRED                  | CREATED    | its node  | null                  | null     | null                  |
 * | RUNNING                     | RUNNING                   | STARTED    | its node  | execution start       | null     | null                  |
 * | COMPLETED                   | any                       | FINISHED   | its node  | execution start       | job end  | null                  |
 * | FAILED                      | any                       | ERRORED    | its node  | execution start       | job end  | the error message     |
 * | CANCELED                    | any                       | CANCELLED  | its node  | execution start/null  | null     | "Cancelled"           |
 *
 * A job of several tasks (frames), or a parent of child jobs, is shown too: FINISHED,
 * ERRORED or CANCELLED by its state, else STARTED once it has started (RUNNING, or
 * suspended or queued with a start time), with node null; UFDL nodes cannot work it
 * (template.workabletemplate is null).
 *
 * Back the other way, each UFDL action is an engine move: acquire → claimSingleTaskJob;
 * release → releaseExecution; start → startExecution; progress → reportProgress;
 * finish → completeExecution, or failReportedExecution with `error`; reset →
 * resetFailedJob (FAILED → QUEUED); abort → withdrawJobWork; cancel → the job action cancel.
 */

export interface PhaseRow {
  state: string;
  execution: 'none live' | 'ACQUIRED' | 'RUNNING' | 'any';
  phase: Phase;
  acquired: boolean;
}

export const PHASE_TABLE: readonly PhaseRow[] = [
  { state: 'PENDING', execution: 'none live', phase: 'CREATED', acquired: false },
  { state: 'QUEUED', execution: 'none live', phase: 'CREATED', acquired: false },
  { state: 'SUSPENDED', execution: 'none live', phase: 'CREATED', acquired: false },
  { state: 'RUNNING', execution: 'none live', phase: 'CREATED', acquired: false },
  { state: 'RUNNING', execution: 'ACQUIRED', phase: 'CREATED', acquired: true },
  { state: 'RUNNING', execution: 'RUNNING', phase: 'STARTED', acquired: true },
  { state: 'COMPLETED', execution: 'any', phase: 'FINISHED', acquired: true },
  { state: 'FAILED', execution: 'any', phase: 'ERRORED', acquired: true },
  { state: 'CANCELED', execution: 'any', phase: 'CANCELLED', acquired: true },
];

type PhaseInput = Pick<UfdlJobViewRow, 'state' | 'task_count' | 'execution_state' | 'start_time'>;

export function phaseOf(job: PhaseInput): Phase {
  if (job.task_count !== 1) {
    // A parent or a job of frames: ended by its state, else started once it first ran (a
    // suspended parent stays STARTED, as UFDL's meta-job keeps its start_time).
    const ended = ({ COMPLETED: 'FINISHED', FAILED: 'ERRORED', CANCELED: 'CANCELLED' } as const)[
      job.state as 'COMPLETED'
    ];
    return ended ?? (job.state === 'RUNNING' || job.start_time !== null ? 'STARTED' : 'CREATED');
  }
  const live =
    job.execution_state === 'ACQUIRED' || job.execution_state === 'RUNNING'
      ? job.execution_state
      : 'none live';
  const row = PHASE_TABLE.find(
    (r) => r.state === job.state && (r.execution === 'any' || r.execution === live),
  );
  return row?.phase ?? 'CREATED';
}

/** The transition whose message a watcher gets on connecting, for each phase (none: CREATED). */
export const LAST_TRANSITION_OF_PHASE: Record<Phase, string | undefined> = {
  CREATED: undefined,
  STARTED: 'progress',
  FINISHED: 'finish',
  ERRORED: 'error',
  CANCELLED: 'cancel',
};
