import type { Tx } from '../../store/database.js';
import { frameDependentsOf, frameSpanOf, tasksByFrameHold } from '../../store/frame-holds.js';
import { lockJob } from '../../store/jobs.js';
import type { JobRow } from '../../store/schema.js';
import type { Emit, EngineContext } from '../context.js';
import { moveTasks } from '../state-changes.js';

/*
 * Frame-by-frame dependencies (Deadline's IsFrameDependent): a job whose dependencies are
 * frame by frame is not held as a whole. It is queued, and each of its tasks is held PENDING
 * while a task of a dependency that covers one of its frames has not completed
 * (src/store/frame-holds.ts says how frames are compared). Chunk sizes may differ: a task of
 * frames 1-10 waits on the tasks of 1-5 and 6-10, a task of frame 7 on the task of 1-10.
 *
 * The dispatcher knows nothing of it: it claims QUEUED tasks, and held tasks are PENDING.
 * Tasks move here instead, on the events that change what holds them:
 * - a dependency's tasks complete: its frame dependents' held tasks over those frames are
 *   released (`releaseFrameTasks`, from the completion paths and when a dependency ends);
 * - the job's own tasks go back to the queue (submission, release, resume, requeue): the ones
 *   whose frames are not done yet are held again (`syncFrameHolds`).
 * A dependency that fails or is canceled follows the job's policy (dependency-failure.ts):
 * CANCEL cancels the job, WAIT keeps its tasks held, RUN releases them.
 */

/** Holds the job's queued tasks whose frames are not done, and releases the others. */
export async function syncFrameHolds(
  ctx: EngineContext,
  tx: Tx,
  emit: Emit,
  job: JobRow,
): Promise<void> {
  if (job.frame_dependent !== 1) return;
  if (job.state !== 'QUEUED' && job.state !== 'RUNNING') return;
  const held = await tasksByFrameHold(tx, job.id, 'QUEUED', true);
  if (held.length > 0) await moveTasks(ctx, tx, emit, job.id, held, 'pend');
  const free = await tasksByFrameHold(tx, job.id, 'PENDING', false);
  if (free.length > 0) await moveTasks(ctx, tx, emit, job.id, free, 'release');
}

/**
 * Releases the held tasks of the jobs that depend on `dependency` frame by frame, the ones
 * over the frames of `done` (tasks that just completed), or all for a dependency that ended.
 */
export async function releaseFrameTasks(
  ctx: EngineContext,
  tx: Tx,
  emit: Emit,
  dependency: JobRow,
  done?: readonly number[],
): Promise<void> {
  if (dependency.frame_dependents <= 0) return;
  const span = done ? await frameSpanOf(tx, done) : undefined;
  if (done && !span) return;
  for (const id of await frameDependentsOf(tx, dependency.id)) {
    const job = await lockJob(tx, ctx.dialect, id);
    if (!job || (job.state !== 'QUEUED' && job.state !== 'RUNNING')) continue;
    const free = await tasksByFrameHold(tx, job.id, 'PENDING', false, span);
    if (free.length > 0) await moveTasks(ctx, tx, emit, job.id, free, 'release');
  }
}
