import { notFound } from '../../domain/errors.js';
import type { TaskEvent } from '../../domain/task-state.js';
import { taskStateMachine, type TaskState } from '../../domain/task-state.js';
import type { Tx } from '../../store/database.js';
import { liveExecutionsOfTasks } from '../../store/executions.js';
import { findJob } from '../../store/jobs.js';
import type { JobRow } from '../../store/schema.js';
import { findTasks, tasksInStates } from '../../store/tasks.js';
import { inTransaction, type Emit, type EngineContext } from '../context.js';
import { releaseFrameTasks, syncFrameHolds } from '../jobs/frame-dependencies.js';
import { lockedJob } from '../jobs/job-actions.js';
import { isParentJob } from '../jobs/job-families.js';
import { changeJobState, changeJobStates, moveTasks, stopExecutions } from '../state-changes.js';

export const TASK_ACTIONS = [
  'requeue',
  'suspend',
  'resume',
  'pend',
  'release',
  'complete',
  'fail',
  'reset',
] as const;
export type TaskAction = (typeof TASK_ACTIONS)[number];

const TASK_EVENT: Record<TaskAction, TaskEvent> = {
  requeue: 'requeue',
  suspend: 'suspend',
  resume: 'resume',
  pend: 'pend',
  release: 'release',
  complete: 'mark-completed',
  fail: 'mark-failed',
  // A failed task back in the queue with its tries forgotten (UFDL's reset, Deadline's resume failed).
  reset: 'resume-failed',
};

/** Applies an action to some tasks of one job, then brings the job's state in line. */
export async function applyTaskAction(
  ctx: EngineContext,
  jobId: number,
  taskIds: readonly number[] | 'all',
  action: TaskAction,
): Promise<void> {
  await inTransaction(ctx, async (tx, emit) => {
    const job = await lockedJob(ctx, tx, jobId);
    const event = TASK_EVENT[action];
    const tasks = [];
    if (taskIds === 'all') {
      tasks.push(...(await tasksInStates(tx, jobId, taskStateMachine.sources(event))));
    } else {
      // One read for the whole selection (in chunks), not one per task: a Deadline TaskList
      // may name thousands.
      const byId = new Map((await findTasks(tx, taskIds)).map((t) => [t.id, t]));
      for (const id of new Set(taskIds)) {
        const task = byId.get(id);
        if (!task || task.job_id !== jobId) throw notFound('task', id);
        taskStateMachine.apply(task.state as TaskState, event, task.id);
        tasks.push(task);
      }
    }
    const running = tasks.filter((t) => t.state === 'RUNNING').map((t) => t.id);
    await stopExecutions(ctx, tx, emit, await liveExecutionsOfTasks(tx, running));
    await moveTasks(
      ctx,
      tx,
      emit,
      jobId,
      tasks,
      event,
      action === 'reset' || action === 'requeue' ? { tries: 0 } : {},
    );
    // Tasks back in the queue wait again on frames not done yet; a release by hand does not.
    if (job.frame_dependent === 1 && ['requeue', 'resume', 'reset'].includes(action)) {
      await syncFrameHolds(ctx, tx, emit, (await findJob(tx, jobId)) ?? job);
    }
    await settleJob(ctx, tx, emit, job);
  });
}

/**
 * Derives the job's state from its tasks after tasks moved: all complete ends it, a failed
 * task fails it, and work queued again in an ended job brings it back.
 */
export async function settleJob(
  ctx: EngineContext,
  tx: Tx,
  emit: Emit,
  before: JobRow,
  failure?: { error_name: string | null; error_message: string | null },
): Promise<JobRow> {
  return settleFreshJob(ctx, tx, emit, (await findJob(tx, before.id)) ?? before, failure);
}

/** settleJob on a row read (or returned by an update) after the tasks moved: no re-read. */
export async function settleFreshJob(
  ctx: EngineContext,
  tx: Tx,
  emit: Emit,
  job: JobRow,
  failure?: { error_name: string | null; error_message: string | null },
  done?: readonly number[],
): Promise<JobRow> {
  // Tasks that just completed release the same frames of jobs waiting on them frame by frame.
  if (job.frame_dependents > 0) await releaseFrameTasks(ctx, tx, emit, job, done);
  const state = job.state;
  // A parent job has no tasks: its state is its children's (job-families.ts).
  if (isParentJob(job)) return job;
  if (allTasksCompleted(job)) return changeJobState(ctx, tx, emit, job, 'finish');
  if (
    (state === 'COMPLETED' || state === 'FAILED' || state === 'CANCELED') &&
    job.tasks_queued > 0 &&
    job.tasks_failed === 0
  ) {
    return changeJobState(ctx, tx, emit, job, 'requeue');
  }
  if ((state === 'QUEUED' || state === 'RUNNING') && job.tasks_failed > 0) {
    return changeJobState(ctx, tx, emit, job, 'fail', failure ?? {});
  }
  return job;
}

/** Every task of a live job has completed: the job finishes. */
function allTasksCompleted(job: JobRow): boolean {
  const state = job.state;
  return (
    job.tasks_completed === job.task_count &&
    (state === 'QUEUED' || state === 'RUNNING' || state === 'SUSPENDED')
  );
}

/**
 * settleFreshJob for several jobs whose tasks completed, in one transaction: the jobs that
 * simply finish (no frame-dependent jobs to release first, not a parent) end together
 * (changeJobStates), the others one by one. Answers each job's row as it now is.
 */
export async function settleFreshJobs(
  ctx: EngineContext,
  tx: Tx,
  emit: Emit,
  fresh: readonly { job: JobRow; done: readonly number[] }[],
): Promise<Map<number, JobRow>> {
  const settled = new Map<number, JobRow>();
  const finishing: JobRow[] = [];
  for (const { job, done } of fresh) {
    if (job.frame_dependents === 0 && !isParentJob(job) && allTasksCompleted(job)) {
      finishing.push(job);
    } else {
      settled.set(job.id, await settleFreshJob(ctx, tx, emit, job, undefined, done));
    }
  }
  for (const job of await changeJobStates(ctx, tx, emit, finishing, 'finish')) {
    settled.set(job.id, job);
  }
  return settled;
}
