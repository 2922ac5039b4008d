import { jobStateMachine, type JobEvent, type JobState } from '../../domain/job-state.js';
import type { Tx } from '../../store/database.js';
import { childrenOf, childStateCounts, lockJob } from '../../store/jobs.js';
import type { JobRow } from '../../store/schema.js';
import type { EngineContext, Emit } from '../context.js';
import { changeJobState } from '../state-changes.js';

/*
 * Parent jobs (a composite job type's jobs, src/domain/child-jobs.ts) have no tasks: their
 * state is their children's, derived here each time a child's state changes, and an action
 * on a parent is that action on its children (job-actions.ts).
 *
 * - any child FAILED and none left queued or running: the parent FAILED, naming the child
 *   (the others ended, or wait on the failed one under policy WAIT, or are held by hand);
 * - every child COMPLETED: COMPLETED (jobs waiting on the parent are released then);
 * - every child ended, one at least CANCELED: CANCELED;
 * - any child RUNNING, or some done or failed and more to come: RUNNING (a failed child's
 *   siblings that do not depend on it carry on);
 * - every child left SUSPENDED: SUSPENDED; every child left PENDING: PENDING;
 * - otherwise (children queued): QUEUED.
 */

type Counts = Partial<Record<JobState, number>>;

export function parentStateOf(counts: Counts): JobState | undefined {
  const n = (s: JobState) => counts[s] ?? 0;
  const total = Object.values(counts).reduce((a, b) => a + (b ?? 0), 0);
  if (total === 0) return undefined;
  const ended = n('COMPLETED') + n('FAILED') + n('CANCELED');
  const open = total - ended;
  const moving = n('QUEUED') + n('RUNNING');
  if (n('FAILED') > 0 && moving === 0) return 'FAILED';
  if (n('COMPLETED') === total) return 'COMPLETED';
  if (open === 0) return 'CANCELED';
  if (n('RUNNING') > 0 || n('COMPLETED') > 0 || n('FAILED') > 0) return 'RUNNING';
  if (n('SUSPENDED') === open) return 'SUSPENDED';
  if (n('PENDING') === open) return 'PENDING';
  return 'QUEUED';
}

const EVENTS: JobEvent[] = [
  'start',
  'finish',
  'fail',
  'cancel',
  'suspend',
  'resume',
  'release',
  'pend',
  'requeue',
  'resume-failed',
];

/** The job events that move `from` to `to`: one when the table has it, else by QUEUED. */
export function eventsBetween(from: JobState, to: JobState): JobEvent[] {
  const direct = EVENTS.find((e) => jobStateMachine.next(from, e) === to);
  if (direct) return [direct];
  const first = EVENTS.find((e) => jobStateMachine.next(from, e) === 'QUEUED');
  const second = EVENTS.find((e) => jobStateMachine.next('QUEUED', e) === to);
  if (!first || !second) throw new Error(`no way from ${from} to ${to}`);
  return [first, second];
}

/** Moves the parent to the state its children make; called after a child's state changed. */
export async function followChildren(
  ctx: EngineContext,
  tx: Tx,
  emit: Emit,
  parentId: number,
): Promise<void> {
  let parent: JobRow | undefined = await lockJob(tx, ctx.dialect, parentId);
  if (!parent) return;
  const counts = await childStateCounts(tx, parentId);
  const target = parentStateOf(counts);
  if (target === undefined || target === parent.state) return;
  let failure = {};
  if (target === 'FAILED') {
    const failed = (await childrenOf(tx, parentId)).find((c) => c.state === 'FAILED');
    failure = {
      error_name: failed?.error_name ?? null,
      error_message: `child job ${failed?.id} (${failed?.name}) failed: ${failed?.error_message ?? ''}`,
    };
  }
  for (const event of eventsBetween(parent.state as JobState, target)) {
    parent = await changeJobState(ctx, tx, emit, parent, event, {
      ...(event === 'fail' ? failure : {}),
      ...(event === 'requeue' ? { started_at: null } : {}),
    });
  }
}

/** Whether a job's state is its children's (it has no tasks of its own). */
export const isParentJob = (job: Pick<JobRow, 'task_count'>): boolean => job.task_count === 0;
