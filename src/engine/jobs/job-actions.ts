import { DroverError, notFound } from '../../domain/errors.js';
import { jobStateMachine, type JobEvent } from '../../domain/job-state.js';
import { taskStateMachine, type TaskEvent, type TaskState } from '../../domain/task-state.js';
import type { Tx } from '../../store/database.js';
import { liveExecutionsOfTasks } from '../../store/executions.js';
import { childrenOf, findJob, lockJob, unmetDependencies } from '../../store/jobs.js';
import type { JobRow, JobUpdate, TaskRow } from '../../store/schema.js';
import { resetQueuedTries, tasksInStates } from '../../store/tasks.js';
import { inTransaction, type Emit, type EngineContext } from '../context.js';
import {
  changeJobState,
  moveTasks,
  outsideSchedule,
  releaseJob,
  stopExecutions,
} from '../state-changes.js';
import { meetFailedDependencies } from './dependency-failure.js';
import { syncFrameHolds } from './frame-dependencies.js';
import { isParentJob } from './job-families.js';

export const JOB_ACTIONS = [
  'suspend',
  'suspend-queued',
  'resume',
  'resume-failed',
  'requeue',
  'pend',
  'release',
  'cancel',
  'complete',
  'fail',
] as const;
export type JobAction = (typeof JOB_ACTIONS)[number];

interface ActionRule {
  jobEvent: JobEvent;
  taskEvent: TaskEvent;
  /** Which of the job's tasks move; defaults to every task the task event applies to. */
  tasksFrom?: TaskState[];
  /** Task columns reset by the move. */
  taskPatch?: { tries?: number };
  jobPatch?: (job: JobRow) => JobUpdate;
}

/** Each job action is a job event plus the task event applied to the job's tasks. */
const RULES: Record<JobAction, ActionRule> = {
  suspend: { jobEvent: 'suspend', taskEvent: 'suspend' },
  // Deadline's "suspend non-rendering tasks": what runs finishes, nothing new starts.
  'suspend-queued': { jobEvent: 'suspend', taskEvent: 'suspend', tasksFrom: ['PENDING', 'QUEUED'] },
  resume: { jobEvent: 'resume', taskEvent: 'resume' },
  'resume-failed': {
    jobEvent: 'resume-failed',
    taskEvent: 'resume-failed',
    taskPatch: { tries: 0 },
  },
  requeue: {
    jobEvent: 'requeue',
    taskEvent: 'requeue',
    taskPatch: { tries: 0 },
    jobPatch: () => ({ started_at: null }),
  },
  pend: { jobEvent: 'pend', taskEvent: 'pend', jobPatch: () => ({ pend_reason: 'MANUAL' }) },
  release: { jobEvent: 'release', taskEvent: 'release' },
  cancel: { jobEvent: 'cancel', taskEvent: 'cancel' },
  complete: { jobEvent: 'mark-completed', taskEvent: 'mark-completed' },
  fail: {
    jobEvent: 'mark-failed',
    taskEvent: 'mark-failed',
    jobPatch: () => ({ error_name: 'unknown', error_message: 'marked failed by hand' }),
  },
};

export async function lockedJob(ctx: EngineContext, tx: Tx, id: number): Promise<JobRow> {
  const job = await lockJob(tx, ctx.dialect, id);
  if (!job) throw notFound('job', id);
  return job;
}

export async function applyJobAction(
  ctx: EngineContext,
  jobId: number,
  action: JobAction,
  error?: { name: string; message: string },
): Promise<void> {
  await inTransaction(ctx, async (tx, emit) => {
    const job = await lockedJob(ctx, tx, jobId);
    await applyRule(ctx, tx, emit, job, action, error);
  });
}

async function applyRule(
  ctx: EngineContext,
  tx: Tx,
  emit: Emit,
  job: JobRow,
  action: JobAction,
  error?: { name: string; message: string },
): Promise<JobRow> {
  if (isParentJob(job)) return applyToChildren(ctx, tx, emit, job, action, error);
  const rule = RULES[action];
  let jobEvent = rule.jobEvent;
  let taskEvent = rule.taskEvent;
  let pendReason: string | null = null;
  if (action === 'resume' && (await unmetDependencies(tx, job.id)).length > 0) {
    pendReason = 'DEPENDENCIES';
  } else if (action === 'resume' && outsideSchedule(job, ctx.clock())) {
    pendReason = 'SCHEDULE';
  }
  if (pendReason !== null) {
    [jobEvent, taskEvent] = ['resume-to-pending', 'pend'];
  }
  if (action === 'release' && job.state === 'PENDING') return releaseJob(ctx, tx, emit, job);
  // Ask the job's table before touching any task, so an illegal action changes nothing.
  jobStateMachine.apply(job.state as never, jobEvent, job.id);
  const from =
    taskEvent === 'pend' && action === 'resume'
      ? (['SUSPENDED'] as TaskState[])
      : (rule.tasksFrom ?? taskStateMachine.sources(taskEvent));
  const tasks = await tasksInStates(tx, job.id, from);
  await stopLiveExecutions(ctx, tx, emit, tasks);
  await moveTasks(ctx, tx, emit, job.id, tasks, taskEvent, rule.taskPatch ?? {});
  // Tasks already QUEUED do not move, but a requeue forgets their tries as well.
  if (action === 'requeue') await resetQueuedTries(tx, job.id, ctx.clock());
  const patch = rule.jobPatch?.(job) ?? {};
  if (pendReason !== null) patch.pend_reason = pendReason;
  if (error) Object.assign(patch, { error_name: error.name, error_message: error.message });
  const changed = await changeJobState(ctx, tx, emit, job, jobEvent, patch);
  if (pendReason !== 'DEPENDENCIES' && changed.frame_dependent !== 1) return changed;
  await syncFrameHolds(ctx, tx, emit, changed);
  await meetFailedDependencies(ctx, tx, emit, changed);
  return (await findJob(tx, job.id)) ?? changed;
}

/**
 * An action on a parent job is the action on each child it applies to; the parent then
 * follows its children. One that applies to no child is illegal for the parent too.
 */
async function applyToChildren(
  ctx: EngineContext,
  tx: Tx,
  emit: Emit,
  parent: JobRow,
  action: JobAction,
  error?: { name: string; message: string },
): Promise<JobRow> {
  let applied = 0;
  for (const child of await childrenOf(tx, parent.id)) {
    const locked = await lockedJob(ctx, tx, child.id);
    try {
      await applyRule(ctx, tx, emit, locked, action, error);
      applied += 1;
    } catch (e) {
      // applyRule asks the state table before it touches anything: a child in a state the
      // action does not apply to (a finished one, for a cancel) is left as it is.
      if (!(e instanceof DroverError && e.code === 'ILLEGAL_TRANSITION')) throw e;
    }
  }
  if (applied === 0)
    jobStateMachine.apply(parent.state as never, RULES[action].jobEvent, parent.id);
  return (await findJob(tx, parent.id)) ?? parent;
}

async function stopLiveExecutions(
  ctx: EngineContext,
  tx: Tx,
  emit: Emit,
  tasks: readonly TaskRow[],
): Promise<void> {
  const running = tasks.filter((t) => t.state === 'RUNNING').map((t) => t.id);
  if (running.length > 0)
    await stopExecutions(ctx, tx, emit, await liveExecutionsOfTasks(tx, running));
}

export { updateJobSettings, type JobChanges } from './job-settings.js';
export { deleteJob, purgeJob, undeleteJob } from './job-deletion.js';
