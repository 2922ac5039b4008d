import type { FastifyInstance, FastifyReply } from 'fastify';
import { taskStateMachine, type TaskEvent, type TaskState } from '../../domain/task-state.js';
import { assertMayChangeJob } from '../../engine/accounts/permissions.js';
import type { EngineContext } from '../../engine/context.js';
import { MAX_TASKS_PER_JOB } from '../../engine/jobs/job-submission.js';
import { applyTaskAction, type TaskAction } from '../../engine/tasks/task-actions.js';
import { tasksWithFacts, type TaskWithFacts } from '../../store/execution-statistics.js';
import type { JobRow } from '../../store/schema.js';
import type { DeadlineContext } from './context.js';
import { badRequest, serverError } from './errors.js';
import { toDeadlineId } from './ids.js';
import { jobOf } from './job-lookup.js';
import { jsonBody, queryFlag, queryOf } from './request-body.js';
import { stepJobsOf, stepTasks, stepTasksNamed, type StepTask } from './step-jobs.js';
import { renderTask } from './task-json.js';
import { asInt, asList, asString } from './values.js';

/*
 * /api/tasks: GET in three shapes (all tasks as {ID, PreTask, PostTask, Tasks}, one task
 * by TaskID, or the task ids with IdOnly) and PUT commands on some or all tasks of a job.
 * TaskList is an int, a list of ints, or absent for every task. Tasks whose state does not
 * allow the command are left as they are, as Deadline does for a selection in the Monitor.
 */

const COMMANDS: Record<string, { action: TaskAction; event: TaskEvent }> = {
  requeue: { action: 'requeue', event: 'requeue' },
  complete: { action: 'complete', event: 'mark-completed' },
  resume: { action: 'resume', event: 'resume' },
  suspend: { action: 'suspend', event: 'suspend' },
  fail: { action: 'fail', event: 'mark-failed' },
  resumefailed: { action: 'reset', event: 'resume-failed' },
  pend: { action: 'pend', event: 'pend' },
  releasepending: { action: 'release', event: 'release' },
};

/**
 * The task ids of a TaskID or TaskList, each once. A job has at most MAX_TASKS_PER_JOB tasks,
 * so a list naming more cannot be met; it is refused before any of it is read.
 */
function taskIndexes(value: unknown): number[] {
  const items = Array.isArray(value) ? value : asList(value);
  const indexes = new Set<number>();
  for (const item of items) {
    const n = asInt(item);
    if (n === undefined || n < 0) {
      throw badRequest(`"${asString(item) ?? ''}" is not a task ID (a whole number).`);
    }
    indexes.add(n);
    if (indexes.size > MAX_TASKS_PER_JOB) {
      throw badRequest(
        `The task list names more than ${MAX_TASKS_PER_JOB} tasks; a job has at most ${MAX_TASKS_PER_JOB}.`,
      );
    }
  }
  return [...indexes];
}

/** The tasks of `indexes`, or Deadline's 500 naming the first that the job does not have. */
async function tasksNamed(
  ctx: EngineContext,
  jobId: number,
  indexes: readonly number[],
): Promise<TaskWithFacts[]> {
  const tasks = await tasksWithFacts(ctx.db, jobId, indexes);
  if (tasks.length < indexes.length) {
    const found = new Set(tasks.map((t) => t.task_index));
    const missing = indexes.find((index) => !found.has(index));
    throw serverError(`Job ${toDeadlineId(jobId)} has no task ${missing}.`);
  }
  return tasks;
}

/** A step's task as the parent's, its step named in Ex0 (the job's TaskEx0 is "Step"). */
function renderStepTask(task: StepTask): Record<string, unknown> {
  const rendered = renderTask(task);
  (rendered.Props as Record<string, unknown>).Ex0 = task.step;
  return rendered;
}

/** A task command on a multi-step job: on the tasks named, in their steps, or on all of them. */
async function stepTaskCommand(
  ctx: EngineContext,
  job: JobRow,
  steps: readonly JobRow[],
  taskList: unknown,
  command: { action: TaskAction; event: TaskEvent },
): Promise<void> {
  if (taskList === undefined || taskList === null) {
    for (const step of steps) await applyTaskAction(ctx, step.id, 'all', command.action);
    return;
  }
  const tasks = stepTasksNamed(job, await stepTasks(ctx, job, steps), taskIndexes(taskList));
  const sources = taskStateMachine.sources(command.event);
  const byStep = new Map<number, number[]>();
  for (const task of tasks) {
    if (!sources.includes(task.state as TaskState)) continue;
    const ids = byStep.get(task.stepJobId) ?? [];
    ids.push(task.id);
    byStep.set(task.stepJobId, ids);
  }
  for (const [stepJobId, ids] of byStep) {
    await applyTaskAction(ctx, stepJobId, ids, command.action);
  }
}

export function taskRoutes(dc: DeadlineContext) {
  const ctx = dc.engine.ctx;
  return async (app: FastifyInstance): Promise<void> => {
    app.get('/api/tasks', async (request) => {
      const q = queryOf(request);
      const jobText = q('JobID');
      if (!jobText?.trim()) throw badRequest('There was no JobID provided.');
      const job = await jobOf(ctx, jobText);
      const taskText = q('TaskID');
      const steps = await stepJobsOf(ctx, job);
      if (steps) {
        // A multi-step job's tasks are its steps' (step-jobs.ts).
        const all = await stepTasks(ctx, job, steps);
        if (taskText !== undefined) {
          const rendered = stepTasksNamed(job, all, taskIndexes(taskText)).map(renderStepTask);
          return rendered.length === 1 ? rendered[0] : rendered;
        }
        if (queryFlag(q('IdOnly'))) return all.map((t) => t.task_index);
        return {
          ID: toDeadlineId(job.id),
          PreTask: null,
          PostTask: null,
          Tasks: all.map(renderStepTask),
        };
      }
      if (taskText !== undefined) {
        const tasks = await tasksNamed(ctx, job.id, taskIndexes(taskText));
        const rendered = tasks.map(renderTask);
        return rendered.length === 1 ? rendered[0] : rendered;
      }
      const tasks = await tasksWithFacts(ctx.db, job.id);
      if (queryFlag(q('IdOnly'))) return tasks.map((t) => t.task_index);
      return {
        ID: toDeadlineId(job.id),
        PreTask: null,
        PostTask: null,
        Tasks: tasks.map(renderTask),
      };
    });

    app.put('/api/tasks', async (request, reply) => {
      const body = jsonBody(request);
      const commandValue = body.Command ?? body.command;
      if (commandValue === undefined || commandValue === null) {
        throw badRequest('There was no Command entry in the JSON object in the message body.');
      }
      const command = COMMANDS[(asString(commandValue) ?? '').trim().toLowerCase()];
      if (!command) {
        throw serverError(`The command "${asString(commandValue)}" is not a valid command.`);
      }
      if (body.JobID === undefined || body.JobID === null || asString(body.JobID)?.trim() === '') {
        throw badRequest('There was no JobID entry in the JSON object in the message body.');
      }
      const job = await jobOf(ctx, body.JobID);
      await assertMayChangeJob(ctx, request.principal, job.id);
      const steps = await stepJobsOf(ctx, job);
      if (steps) {
        await stepTaskCommand(ctx, job, steps, body.TaskList, command);
        return reply.type('text/plain; charset=utf-8').send('Success');
      }
      if (body.TaskList === undefined || body.TaskList === null) {
        await applyTaskAction(ctx, job.id, 'all', command.action);
      } else {
        const tasks = await tasksNamed(ctx, job.id, taskIndexes(body.TaskList));
        const sources = taskStateMachine.sources(command.event);
        const movable = tasks
          .filter((t) => sources.includes(t.state as TaskState))
          .map((t) => t.id);
        if (movable.length > 0) await applyTaskAction(ctx, job.id, movable, command.action);
      }
      return reply.type('text/plain; charset=utf-8').send('Success');
    });

    const notImplemented = async (_request: unknown, reply: FastifyReply) =>
      reply
        .status(501)
        .type('text/plain; charset=utf-8')
        .send(
          'Error: tasks are made by submitting or changing a job; POST and DELETE are not implemented.',
        );
    app.post('/api/tasks', notImplemented);
    app.delete('/api/tasks', notImplemented);
  };
}
