import { DroverError, invalid } from '../../domain/errors.js';
import {
  chunkFrames,
  FrameListError,
  parseFrameList,
  type FrameChunk,
} from '../../domain/frame-list.js';
import { checkJobNumbers } from '../../domain/job-bounds.js';
import type { TaskState } from '../../domain/task-state.js';
import type { Tx } from '../../store/database.js';
import { liveExecutionsOfJob } from '../../store/executions.js';
import { childrenOf, recountTasks, updateJob } from '../../store/jobs.js';
import type { JobRow } from '../../store/schema.js';
import { deleteTasksFrom, tasksOfJob } from '../../store/task-frames.js';
import {
  hasParameterTasks,
  insertTasks,
  maxTaskIndex,
  newTaskRows,
  tasksInStates,
  updateTask,
  type NewTask,
} from '../../store/tasks.js';
import { inTransaction, type EngineContext } from '../context.js';
import { lockedJob } from '../jobs/job-actions.js';
import { isParentJob } from '../jobs/job-families.js';
import { MAX_FRAMES_PER_JOB, MAX_TASKS_PER_JOB } from '../jobs/job-submission.js';
import { changeJobState, stopExecutions } from '../state-changes.js';
import { settleJob } from './task-actions.js';

/*
 * Changing the frames of a submitted job (Deadline's SetJobFrameRange and
 * AppendJobFrameRange). Setting rebuilds every task: running ones are withdrawn, and the
 * job goes back to the queue unless it was held (pending or suspended). Appending keeps
 * every task as it is and adds tasks for the frames the job does not have yet; the last
 * task takes some of them first if it has not started and has room in its chunk.
 */

function parse(text: string): number[] {
  try {
    return parseFrameList(text, { maxFrames: MAX_FRAMES_PER_JOB });
  } catch (error) {
    if (error instanceof FrameListError) throw invalid(error.message, { field: 'frames' });
    throw error;
  }
}

/** A job whose tasks are points of a parameter space has no frame list to change. */
async function refuseParameterTasks(tx: Tx, jobId: number): Promise<void> {
  if (await hasParameterTasks(tx, jobId)) {
    throw invalid(
      "the job's tasks are points of a parameter space, not frames; it has no frame range",
      {
        field: 'frames',
      },
    );
  }
}

/**
 * A parent job's frames are its children's: tasks given to it would make it a job of its own
 * and leave its children running unseen, so a change of frames is refused on it.
 */
async function refuseParent(tx: Tx, job: JobRow): Promise<void> {
  if (!isParentJob(job) || (await childrenOf(tx, job.id)).length === 0) return;
  throw new DroverError(
    'CONFLICT',
    `job ${job.id} is a parent job: its frames are those of its steps (child jobs); change the frame range of a step instead`,
    { field: 'frames' },
  );
}

/** The state new tasks take in a job: held with it, queued otherwise. */
function newTaskState(job: JobRow): TaskState {
  if (job.state === 'PENDING') return 'PENDING';
  if (job.state === 'SUSPENDED') return 'SUSPENDED';
  return 'QUEUED';
}

function taskRows(job: JobRow, chunks: FrameChunk[], first: number, now: number): NewTask[] {
  return newTaskRows(job.id, chunks, first, newTaskState(job), now);
}

export async function setJobFrameRange(
  ctx: EngineContext,
  jobId: number,
  frames: string,
  chunkSize?: number,
): Promise<void> {
  await inTransaction(ctx, async (tx, emit) => {
    const job = await lockedJob(ctx, tx, jobId);
    await refuseParent(tx, job);
    await refuseParameterTasks(tx, jobId);
    const chunk = chunkSize ?? job.chunk_size;
    checkJobNumbers({ chunkSize: chunk });
    const text = frames.trim();
    if (text === '') throw invalid('the frame list is empty', { field: 'frames' });
    const chunks = chunkFrames(parse(text), chunk);
    if (chunks.length > MAX_TASKS_PER_JOB) {
      throw invalid(`a job may have at most ${MAX_TASKS_PER_JOB} tasks; raise the chunk size`);
    }
    const now = ctx.clock();
    await stopExecutions(ctx, tx, emit, await liveExecutionsOfJob(tx, jobId));
    // Task rows are reused by index, so the executions they had (and the statistics made
    // of them) stay, and a withdrawn execution's node is told at its next report (409).
    const rows = taskRows(job, chunks, 0, now);
    const old = await tasksOfJob(tx, jobId);
    for (const task of old) {
      const row = rows[task.task_index];
      if (!row) continue;
      await updateTask(tx, task.id, row);
    }
    await deleteTasksFrom(tx, jobId, rows.length);
    await insertTasks(tx, rows.slice(old.length));
    await updateJob(tx, jobId, { frames: text, chunk_size: chunk, task_count: chunks.length });
    await recountTasks(tx, jobId, now);
    emit({ type: 'job.updated', jobId, fields: ['frames', 'chunkSize', 'tasks'] });
    if (job.state === 'RUNNING') {
      await changeJobState(ctx, tx, emit, job, 'requeue', { started_at: null });
    } else {
      await settleJob(ctx, tx, emit, job);
    }
  });
}

export async function appendJobFrameRange(
  ctx: EngineContext,
  jobId: number,
  frames: string,
): Promise<void> {
  await inTransaction(ctx, async (tx, emit) => {
    const job = await lockedJob(ctx, tx, jobId);
    await refuseParent(tx, job);
    await refuseParameterTasks(tx, jobId);
    const text = frames.trim();
    if (text === '') throw invalid('the frame list is empty', { field: 'frames' });
    const existing = new Set(job.frames.trim() === '' ? [] : parse(job.frames));
    // A frame is never rendered twice: frames the job has are dropped from the append.
    const added = parse(text).filter((f) => !existing.has(f));
    if (added.length === 0) return;
    const now = ctx.clock();

    const last = (await tasksInStates(tx, jobId, ['PENDING', 'QUEUED', 'SUSPENDED'])).at(-1);
    const lastIndex = await maxTaskIndex(tx, jobId);
    if (last && last.task_index === lastIndex && job.chunk_size > 1 && last.frames !== '') {
      const own = parseFrameList(last.frames);
      const room = job.chunk_size - own.length;
      if (room > 0) {
        const [merged] = chunkFrames([...own, ...added.splice(0, room)], job.chunk_size);
        if (merged) {
          await updateTask(tx, last.id, {
            frames: merged.label,
            frame_start: merged.start,
            frame_end: merged.end,
            last_modified: now,
          });
        }
      }
    }
    const chunks = chunkFrames(added, job.chunk_size);
    const count = lastIndex + 1 + chunks.length;
    if (count > MAX_TASKS_PER_JOB) {
      throw invalid(`a job may have at most ${MAX_TASKS_PER_JOB} tasks`, { field: 'frames' });
    }
    await insertTasks(tx, taskRows(job, chunks, lastIndex + 1, now));
    const allFrames = job.frames.trim() === '' ? text : `${job.frames},${text}`;
    await updateJob(tx, jobId, { frames: allFrames, task_count: count });
    await recountTasks(tx, jobId, now);
    emit({ type: 'job.updated', jobId, fields: ['frames', 'tasks'] });
    // New work in a job that had ended puts it back in the queue.
    await settleJob(ctx, tx, emit, job);
  });
}
