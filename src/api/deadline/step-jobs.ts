import type { EngineContext } from '../../engine/context.js';
import { isParentJob } from '../../engine/jobs/job-families.js';
import { tasksWithFacts, type TaskWithFacts } from '../../store/execution-statistics.js';
import { childrenOf } from '../../store/jobs.js';
import type { JobRow } from '../../store/schema.js';
import { serverError } from './errors.js';
import { toDeadlineId } from './ids.js';

/*
 * A multi-step job (a parent job whose children are its steps: an OpenJD job's steps, a UFDL
 * meta-job's children) as Deadline shows a job: one job whose tasks are its steps' tasks,
 * step after step in the order the steps were made (dependencies first), numbered 0…n-1 on
 * from one step to the next. Deadline has no steps; a task waiting on the steps its step
 * depends on is a Pending task, as a frame-dependent job's are. The steps' own jobs are
 * not listed (their tasks are the parent's), though a JobID naming one still answers.
 * README.md, "Multi-step jobs", says what each field shows.
 */

/** The steps of a parent job, in step order; undefined for a job with tasks of its own. */
export async function stepJobsOf(ctx: EngineContext, job: JobRow): Promise<JobRow[] | undefined> {
  if (!isParentJob(job)) return undefined;
  const steps = await childrenOf(ctx.db, job.id);
  return steps.length === 0 ? undefined : steps;
}

const COUNTS = [
  'task_count',
  'tasks_pending',
  'tasks_queued',
  'tasks_running',
  'tasks_suspended',
  'tasks_completed',
  'tasks_failed',
  'tasks_canceled',
] as const;

/**
 * The parent's row as the job document reads it: its steps' task counts summed, their frame
 * lists joined (each once), and their chunk size when they share one (else 1). The state,
 * dates and settings stay the parent's, which the engine derives from its steps.
 */
export function withStepTotals(parent: JobRow, steps: readonly JobRow[]): JobRow {
  const row = { ...parent };
  for (const key of COUNTS) row[key] = steps.reduce((sum, s) => sum + s[key], 0);
  const frames = [...new Set(steps.map((s) => s.frames).filter((f) => f !== ''))];
  row.frames = frames.join(',');
  const chunks = new Set(steps.map((s) => s.chunk_size));
  row.chunk_size = chunks.size === 1 ? [...chunks][0]! : 1;
  return row;
}

/** A step's task as the parent's: its job and number are the parent's. */
export interface StepTask extends TaskWithFacts {
  /** The step it belongs to (its job's childName), shown as the task's Ex0. */
  step: string;
  /** The step's job and the task's index in it, to act on it. */
  stepJobId: number;
}

/** Every task of the parent's steps, numbered on from step to step. */
export async function stepTasks(
  ctx: EngineContext,
  parent: JobRow,
  steps: readonly JobRow[],
): Promise<StepTask[]> {
  const out: StepTask[] = [];
  for (const step of steps) {
    for (const task of await tasksWithFacts(ctx.db, step.id)) {
      out.push({
        ...task,
        job_id: parent.id,
        task_index: out.length,
        step: step.child_name ?? step.name,
        stepJobId: step.id,
      });
    }
  }
  return out;
}

/** The parent's tasks of the given numbers, or Deadline's 500 naming the first it lacks. */
export function stepTasksNamed(
  parent: JobRow,
  tasks: readonly StepTask[],
  indexes: readonly number[],
): StepTask[] {
  return [...indexes]
    .sort((a, b) => a - b)
    .map((index) => {
      const task = tasks[index];
      if (!task) throw serverError(`Job ${toDeadlineId(parent.id)} has no task ${index}.`);
      return task;
    });
}

/**
 * The frame range commands change one job's frames; a multi-step job's frames are its
 * steps', set by its template, so they are refused (Deadline's 500 for a command that fails).
 */
export async function refuseForSteps(ctx: EngineContext, job: JobRow): Promise<void> {
  if (await stepJobsOf(ctx, job)) {
    throw serverError(
      `Job ${toDeadlineId(job.id)} is a job of several steps; its frames are its steps' and cannot be changed.`,
    );
  }
}

/**
 * The jobs that delete and undelete act on: a multi-step job's steps, then the job.
 * Deadline removes a job with its tasks, so a step whose tasks are the job's goes with it.
 */
export async function withStepJobIds(ctx: EngineContext, job: JobRow): Promise<number[]> {
  const steps = await stepJobsOf(ctx, job);
  return [...(steps ?? []).map((s) => s.id), job.id];
}
