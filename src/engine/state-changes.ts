import { executionStateMachine, type ExecutionState } from '../domain/execution-state.js';
import type { ExecutionUsageColumns } from '../domain/execution-usage.js';
import { nextScheduleEvent, parseStoredSchedule, scheduleHolds } from '../domain/job-schedule.js';
import {
  FINAL_JOB_STATES,
  jobStateMachine,
  type JobEvent,
  type JobState,
} from '../domain/job-state.js';
import { taskStateMachine, type TaskEvent, type TaskState } from '../domain/task-state.js';
import type { Tx } from '../store/database.js';
import { updateExecution } from '../store/executions.js';
import { shiftTaskCounters, updateJob, updateJobs, type CounterState } from '../store/jobs.js';
import type { ExecutionRow, JobRow, JobUpdate, TaskRow, TasksTable } from '../store/schema.js';
import { setTasksState, tasksInStates } from '../store/tasks.js';
import type { EngineContext, Emit } from './context.js';
import { feedSiblings } from './jobs/child-inputs.js';
import { settleDependents } from './jobs/dependency-failure.js';
import { syncFrameHolds } from './jobs/frame-dependencies.js';
import { followChildren } from './jobs/job-families.js';
import { enqueueJobEndNotifications } from './notifications/notification-hook.js';

/*
 * The moves every action is made of. Each one asks the state tables first, writes the
 * change with last_status_change and last_modified, keeps the job's task counters exact,
 * and emits one event.
 */

/** Event payloads list task ids only up to this many; past it they carry just the count. */
const MAX_IDS_IN_EVENT = 200;

const FINAL_TASK_STATES: readonly TaskState[] = ['COMPLETED', 'FAILED', 'CANCELED'];

export async function changeJobState(
  ctx: EngineContext,
  tx: Tx,
  emit: Emit,
  job: JobRow,
  event: JobEvent,
  patch: JobUpdate = {},
): Promise<JobRow> {
  const now = ctx.clock();
  const change = jobStateUpdate(job, event, patch, now);
  await updateJob(tx, job.id, change.update);
  const [changed] = await afterJobStateChanges(ctx, tx, emit, [{ job, change }], now);
  return changed!;
}

/**
 * The same event for several jobs, with what changeJobState does for each: jobs that no
 * parent follows, whose rows change alike, are written by one statement, and their
 * notifications and released dependents take one statement each for them all; a child job
 * goes alone, since its parent follows its children one at a time (followChildren). Each
 * job still gets its own events. Inside the write lane's transaction on PostgreSQL, one
 * statement per job was a round trip each: with jobs of one task, every claim started a job
 * and every finish ended one (bench/peer.ts --tasks-per-job 1).
 */
export async function changeJobStates(
  ctx: EngineContext,
  tx: Tx,
  emit: Emit,
  jobs: readonly JobRow[],
  event: JobEvent,
): Promise<JobRow[]> {
  const now = ctx.clock();
  const items = jobs.map((job) => ({ job, change: jobStateUpdate(job, event, {}, now) }));
  const lone = items.filter(({ job }) => job.parent_id === null);
  const alike = new Map<string, { update: JobUpdate; ids: number[] }>();
  for (const { job, change } of lone) {
    const key = JSON.stringify(change.update);
    const group = alike.get(key) ?? { update: change.update, ids: [] };
    group.ids.push(job.id);
    alike.set(key, group);
  }
  for (const { update, ids } of alike.values()) await updateJobs(tx, ids, update);
  const changed = new Map<JobStateItem, JobRow>();
  const settled = await afterJobStateChanges(ctx, tx, emit, lone, now);
  lone.forEach((item, i) => changed.set(item, settled[i]!));
  for (const item of items) {
    if (item.job.parent_id === null) continue;
    await updateJob(tx, item.job.id, item.change.update);
    const [row] = await afterJobStateChanges(ctx, tx, emit, [item], now);
    changed.set(item, row!);
  }
  return items.map((item) => changed.get(item)!);
}

interface JobStateUpdate {
  from: JobState;
  to: JobState;
  update: JobUpdate;
}

interface JobStateItem {
  job: JobRow;
  change: JobStateUpdate;
}

/** What an event writes on a job's row (the machine refuses a move its state does not allow). */
function jobStateUpdate(
  job: JobRow,
  event: JobEvent,
  patch: JobUpdate,
  now: number,
): JobStateUpdate {
  const from = job.state as JobState;
  const to = jobStateMachine.apply(from, event, job.id);
  const update: JobUpdate = { ...patch, state: to, last_modified: now };
  if (to !== from) update.last_status_change = now;
  if (to === 'QUEUED') update.queued_at = now;
  if (to === 'RUNNING' && job.started_at === null) update.started_at = now;
  if (FINAL_JOB_STATES.includes(to)) update.ended_at = now;
  else if (FINAL_JOB_STATES.includes(from)) update.ended_at = null;
  if (to !== 'PENDING') update.pend_reason = null;
  // Suspended by hand unless the move says otherwise (the schedule's stop says SCHEDULE).
  if (to !== 'SUSPENDED') update.suspend_reason = null;
  else if (from !== 'SUSPENDED') update.suspend_reason ??= null;
  // An ended job follows no schedule; one that comes back follows it again from now.
  if (FINAL_JOB_STATES.includes(to)) update.next_schedule_at = null;
  else if (FINAL_JOB_STATES.includes(from)) {
    const schedule = parseStoredSchedule(job.schedule_json);
    update.next_schedule_at = schedule ? (nextScheduleEvent(schedule, now)?.at ?? null) : null;
  }
  if (to === 'QUEUED' || to === 'COMPLETED') {
    update.error_name ??= null;
    update.error_message ??= null;
  }
  return { from, to, update };
}

/**
 * What follows jobs' rows once written: their events, the notifications of those that
 * ended, a completed child's outputs passed to its siblings, the dependents of those that
 * ended, and the parent that follows its children. Answers the rows as they now are.
 */
async function afterJobStateChanges(
  ctx: EngineContext,
  tx: Tx,
  emit: Emit,
  items: readonly JobStateItem[],
  now: number,
): Promise<JobRow[]> {
  const changed = items.map(({ job, change }) => ({ ...job, ...change.update }) as JobRow);
  const ended: JobRow[] = [];
  items.forEach(({ job, change: { from, to } }, i) => {
    if (to === from) return;
    emit({ type: 'job.state', jobId: job.id, from, to });
    if (FINAL_JOB_STATES.includes(to)) ended.push(changed[i]!);
  });
  // The jobs' ends and their notifications commit together, or not at all.
  await enqueueJobEndNotifications(tx, emit, ended, now);
  // A child's outputs become its later siblings' inputs before they are released.
  for (const [i, { job, change }] of items.entries()) {
    if (change.to === 'COMPLETED' && typeof job.child_name === 'string') {
      await feedSiblings(ctx, tx, emit, changed[i]!);
    }
  }
  await settleDependents(ctx, tx, emit, ended);
  for (const { job, change } of items) {
    if (change.to !== change.from && job.parent_id !== null) {
      await followChildren(ctx, tx, emit, job.parent_id);
    }
  }
  return changed;
}

/**
 * Moves tasks by one task event. Tasks whose state does not allow it are an error: callers
 * select tasks from `taskStateMachine.sources(event)`.
 */
export async function moveTasks(
  ctx: EngineContext,
  tx: Tx,
  emit: Emit,
  jobId: number,
  tasks: readonly TaskRow[],
  event: TaskEvent,
  patch: Partial<Omit<TasksTable, 'id'>> = {},
): Promise<JobRow | undefined> {
  const now = ctx.clock();
  let job: JobRow | undefined;
  const groups = new Map<TaskState, TaskRow[]>();
  for (const task of tasks) {
    const from = task.state as TaskState;
    taskStateMachine.apply(from, event, task.id);
    const group = groups.get(from);
    if (group) group.push(task);
    else groups.set(from, [task]);
  }
  for (const [from, group] of groups) {
    const to = taskStateMachine.apply(from, event);
    const ids = group.map((t) => t.id);
    const update: Partial<Omit<TasksTable, 'id'>> = {
      ...patch,
      state: to,
      last_status_change: now,
      last_modified: now,
    };
    if (to === 'COMPLETED' || to === 'FAILED' || to === 'CANCELED') update.ended_at ??= now;
    if (to === 'QUEUED' || to === 'PENDING') {
      update.node_id = null;
      update.ended_at = null;
      update.progress ??= 0;
    }
    await setTasksState(tx, ids, update);
    // A queueing is an execution: one that ends before any node took it (canceled, or
    // marked done by hand) spends its execution number, so the next claim numbers after it.
    const unclaimedEnds = from === 'QUEUED' && FINAL_TASK_STATES.includes(to) ? ids.length : 0;
    job =
      (await shiftTaskCounters(
        tx,
        jobId,
        from as CounterState,
        to as CounterState,
        ids.length,
        now,
        unclaimedEnds,
      )) ?? job;
    emitTasksMoved(emit, jobId, ids, from, to);
  }
  return job;
}

/** The one event of tasks of a job moving from one state to another. */
export function emitTasksMoved(
  emit: Emit,
  jobId: number,
  ids: readonly number[],
  from: TaskState,
  to: TaskState,
): void {
  if (ids.length === 0) return;
  emit({
    type: 'task.state',
    jobId,
    taskIds: ids.length <= MAX_IDS_IN_EVENT ? [...ids] : [],
    count: ids.length,
    from,
    to,
  });
}

/** Ends executions by an execution event (stop, lose, fail, complete, release). */
export async function endExecution(
  ctx: EngineContext,
  tx: Tx,
  emit: Emit,
  execution: ExecutionRow,
  event: 'stop' | 'lose' | 'fail' | 'complete' | 'release',
  patch: Partial<
    Pick<
      ExecutionRow,
      | 'exit_code'
      | 'error_name'
      | 'error_message'
      | 'timed_out'
      | 'progress'
      | keyof ExecutionUsageColumns
    >
  > = {},
): Promise<ExecutionState> {
  const from = execution.state as ExecutionState;
  const to = executionStateMachine.apply(from, event, execution.id);
  const now = ctx.clock();
  await updateExecution(tx, execution.id, {
    ...patch,
    state: to,
    ended_at: now,
    last_modified: now,
  });
  emitExecutionMoved(emit, execution, from, to);
  return to;
}

/** The one event of an execution moving from one state to another. */
export function emitExecutionMoved(
  emit: Emit,
  execution: Pick<ExecutionRow, 'id' | 'job_id' | 'task_id' | 'node_id'>,
  from: ExecutionState | null,
  to: ExecutionState,
): void {
  emit({
    type: 'execution.state',
    jobId: execution.job_id,
    taskId: execution.task_id,
    executionId: execution.id,
    nodeId: execution.node_id,
    from,
    to,
  });
}

/** Stops every live execution of the given tasks (the worker learns at its next report). */
export async function stopExecutions(
  ctx: EngineContext,
  tx: Tx,
  emit: Emit,
  executions: readonly ExecutionRow[],
): Promise<void> {
  for (const execution of executions) {
    await endExecution(ctx, tx, emit, execution, 'stop', {
      error_name: null,
      error_message: 'withdrawn by the server',
    });
  }
}

/** Whether the job's schedule holds it back at `now` (outside its window, a start ahead). */
export function outsideSchedule(job: Pick<JobRow, 'schedule_json'>, now: number): boolean {
  const schedule = parseStoredSchedule(job.schedule_json);
  return schedule !== null && scheduleHolds(schedule, now);
}

/** A PENDING job whose dependencies are all met goes to the queue, or waits on its schedule. */
export async function releaseWhenDependenciesMet(
  ctx: EngineContext,
  tx: Tx,
  emit: Emit,
  job: JobRow,
): Promise<void> {
  if (outsideSchedule(job, ctx.clock())) {
    // Its dependencies are met but its schedule is not: the reaper releases it when due.
    await updateJob(tx, job.id, { pend_reason: 'SCHEDULE', last_modified: ctx.clock() });
    emit({ type: 'job.updated', jobId: job.id, fields: ['pendReason'] });
    return;
  }
  await releaseJob(ctx, tx, emit, job);
}

/** PENDING → QUEUED with its pending tasks. */
export async function releaseJob(
  ctx: EngineContext,
  tx: Tx,
  emit: Emit,
  job: JobRow,
): Promise<JobRow> {
  const pending = await tasksInStates(tx, job.id, ['PENDING']);
  await moveTasks(ctx, tx, emit, job.id, pending, 'release');
  const released = await changeJobState(ctx, tx, emit, job, 'release');
  await syncFrameHolds(ctx, tx, emit, released);
  return released;
}
