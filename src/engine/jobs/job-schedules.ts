import { invalid } from '../../domain/errors.js';
import {
  checkSchedule,
  firstScheduledStart,
  nextScheduleEvent,
  parseStoredSchedule,
  scheduleHolds,
  scheduleOpenAt,
  type JobSchedule,
  type ScheduleInput,
} from '../../domain/job-schedule.js';
import { FINAL_JOB_STATES, type JobState } from '../../domain/job-state.js';
import { taskStateMachine } from '../../domain/task-state.js';
import type { Tx } from '../../store/database.js';
import { liveExecutionsOfTasks } from '../../store/executions.js';
import { unmetDependencies, updateJob } from '../../store/jobs.js';
import type { JobRow, JobUpdate } from '../../store/schema.js';
import { tasksInStates } from '../../store/tasks.js';
import type { Emit, EngineContext } from '../context.js';
import { changeJobState, moveTasks, releaseJob, stopExecutions } from '../state-changes.js';

/*
 * Jobs following their schedules. At a start the job runs: PENDING on SCHEDULE is released,
 * and a job the schedule suspended is resumed. At a stop a QUEUED or RUNNING job is
 * suspended as the `suspend` action does (running tasks are stopped and wait, suspended,
 * for the next start), marked as suspended by the schedule. Deadline's schedule stops a job
 * "if it's still active", so a pending job stays as it is. What a person did wins: a job
 * suspended or pended by hand is never resumed or released by its schedule, and one released
 * by hand outside its window runs until the next stop.
 *
 * The reaper acts on the window as it is when it looks, not on the event it was woken for,
 * so a start and a stop both missed (the server was down) leave the job where the schedule
 * says it should be now.
 */

const isEnded = (job: JobRow) => FINAL_JOB_STATES.includes(job.state as JobState);

/** The columns a schedule sets on a job at `now`; an ended job waits for no event. */
export function scheduleColumns(
  schedule: JobSchedule | null,
  now: number,
  ended = false,
): Pick<JobUpdate, 'schedule_json' | 'scheduled_at' | 'next_schedule_at'> {
  return {
    schedule_json: schedule ? JSON.stringify(schedule) : null,
    scheduled_at: schedule ? firstScheduledStart(schedule) : null,
    next_schedule_at: schedule && !ended ? (nextScheduleEvent(schedule, now)?.at ?? null) : null,
  };
}

/**
 * Checks a schedule a client sent, refusing one that would never let the job run again
 * (a once schedule whose stop has passed).
 */
export function acceptSchedule(input: ScheduleInput, now: number): JobSchedule {
  const schedule = checkSchedule(input);
  if (!scheduleOpenAt(schedule, now) && !scheduleHolds(schedule, now)) {
    throw invalid(
      'the schedule has ended: its stop lies in the past, so the job would never run; give a later stop, or none',
      { field: 'schedule.stop' },
    );
  }
  return schedule;
}

/** One reaper step for a job whose schedule event came due; returns what it did. */
export async function followSchedule(
  ctx: EngineContext,
  tx: Tx,
  emit: Emit,
  job: JobRow,
): Promise<'started' | 'stopped' | null> {
  const now = ctx.clock();
  const schedule = parseStoredSchedule(job.schedule_json);
  let done: 'started' | 'stopped' | null = null;
  if (schedule && !isEnded(job))
    done = await applyWindow(ctx, tx, emit, job, scheduleOpenAt(schedule, now));
  const { next_schedule_at } = scheduleColumns(schedule, now, isEnded(job));
  await updateJob(tx, job.id, { next_schedule_at });
  if (done === null) emit({ type: 'job.updated', jobId: job.id, fields: ['nextScheduleAt'] });
  return done;
}

/**
 * Replaces a job's schedule (null removes it) and brings the job where the new schedule
 * says it should be now, as the reaper would at an event; a job held by hand stays held,
 * and a job with work under way is suspended rather than pended. Returns false, touching
 * nothing, when the schedule is the same.
 */
export async function replaceSchedule(
  ctx: EngineContext,
  tx: Tx,
  emit: Emit,
  job: JobRow,
  input: ScheduleInput | null,
): Promise<boolean> {
  const now = ctx.clock();
  const schedule = input === null ? null : acceptSchedule(input, now);
  const columns = scheduleColumns(schedule, now, isEnded(job));
  if (columns.schedule_json === job.schedule_json) return false;
  await updateJob(tx, job.id, { ...columns, last_modified: now });
  const changed = { ...job, ...columns };
  if (!isEnded(job)) {
    const open = schedule === null || scheduleOpenAt(schedule, now);
    if (!open && job.state === 'QUEUED' && job.tasks_queued === job.task_count) {
      // Nothing has started: it waits for its window as a job submitted now would.
      await moveTasks(ctx, tx, emit, job.id, await tasksInStates(tx, job.id, ['QUEUED']), 'pend');
      await changeJobState(ctx, tx, emit, changed, 'pend', { pend_reason: 'SCHEDULE' });
    } else {
      await applyWindow(ctx, tx, emit, changed, open);
    }
  }
  return true;
}

/**
 * A parent's schedule (a multi-step job's): kept and shown on the parent, but followed by
 * its steps, which take it in the same transaction (job-settings.ts). The parent waits for
 * no schedule event of its own: its state is its steps' (job-families.ts), so the reaper
 * acting on it would move a state that is not its to move. Returns false when unchanged.
 */
export async function replaceParentSchedule(
  ctx: EngineContext,
  tx: Tx,
  parent: JobRow,
  input: ScheduleInput | null,
): Promise<boolean> {
  const now = ctx.clock();
  const schedule = input === null ? null : acceptSchedule(input, now);
  const columns = scheduleColumns(schedule, now, true);
  if (columns.schedule_json === parent.schedule_json) return false;
  await updateJob(tx, parent.id, { ...columns, last_modified: now });
  return true;
}

async function applyWindow(
  ctx: EngineContext,
  tx: Tx,
  emit: Emit,
  job: JobRow,
  open: boolean,
): Promise<'started' | 'stopped' | null> {
  if (open && job.state === 'PENDING' && job.pend_reason === 'SCHEDULE') {
    await releaseJob(ctx, tx, emit, job);
    return 'started';
  }
  if (open && job.state === 'SUSPENDED' && job.suspend_reason === 'SCHEDULE') {
    await resume(ctx, tx, emit, job);
    return 'started';
  }
  if (!open && (job.state === 'QUEUED' || job.state === 'RUNNING')) {
    await suspend(ctx, tx, emit, job);
    return 'stopped';
  }
  return null;
}

/** The `suspend` action, marked as the schedule's doing. */
async function suspend(ctx: EngineContext, tx: Tx, emit: Emit, job: JobRow): Promise<void> {
  const tasks = await tasksInStates(tx, job.id, taskStateMachine.sources('suspend'));
  const running = tasks.filter((t) => t.state === 'RUNNING').map((t) => t.id);
  if (running.length > 0) {
    await stopExecutions(ctx, tx, emit, await liveExecutionsOfTasks(tx, running));
  }
  await moveTasks(ctx, tx, emit, job.id, tasks, 'suspend');
  await changeJobState(ctx, tx, emit, job, 'suspend', { suspend_reason: 'SCHEDULE' });
}

/** The `resume` action: dependencies added meanwhile still come first. */
async function resume(ctx: EngineContext, tx: Tx, emit: Emit, job: JobRow): Promise<void> {
  const tasks = await tasksInStates(tx, job.id, ['SUSPENDED']);
  if ((await unmetDependencies(tx, job.id)).length > 0) {
    await moveTasks(ctx, tx, emit, job.id, tasks, 'pend');
    await changeJobState(ctx, tx, emit, job, 'resume-to-pending', {
      pend_reason: 'DEPENDENCIES',
    });
    return;
  }
  await moveTasks(ctx, tx, emit, job.id, tasks, 'resume');
  await changeJobState(ctx, tx, emit, job, 'resume');
}
