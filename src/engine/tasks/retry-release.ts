import { lockJob } from '../../store/jobs.js';
import type { TaskRow } from '../../store/schema.js';
import { clearRetryAt, retriesDue } from '../../store/task-retries.js';
import { findTask } from '../../store/tasks.js';
import { inTransaction, type EngineContext } from '../context.js';
import { moveTasks } from '../state-changes.js';

/**
 * Queues again the failed tasks whose retry delay has passed (docs/scheduling.md), a job at
 * a time under its lock; the reaper calls it on each tick. A task an operator moved since
 * (requeued, suspended with its job) only loses its retry time, and so does one whose job
 * is no longer QUEUED or RUNNING: releasing or resuming the job brings it back. Answers how
 * many tasks were queued.
 */
export async function releaseDueRetries(
  ctx: EngineContext,
  now: number,
  limit: number,
): Promise<number> {
  const byJob = new Map<number, number[]>();
  for (const t of await retriesDue(ctx.db, now, limit)) {
    byJob.set(t.job_id, [...(byJob.get(t.job_id) ?? []), t.id]);
  }
  let queued = 0;
  for (const [jobId, ids] of byJob) {
    queued += await inTransaction(ctx, async (tx, emit) => {
      const job = await lockJob(tx, ctx.dialect, jobId);
      const ready: TaskRow[] = [];
      for (const id of ids) {
        const task = await findTask(tx, id);
        // Another replica may have queued it first.
        if (task?.state === 'PENDING' && task.retry_at !== null && task.retry_at <= now) {
          ready.push(task);
        }
      }
      await clearRetryAt(tx, ids);
      if (!job || (job.state !== 'QUEUED' && job.state !== 'RUNNING') || ready.length === 0) {
        return 0;
      }
      await moveTasks(ctx, tx, emit, jobId, ready, 'release');
      return ready.length;
    });
  }
  return queued;
}
