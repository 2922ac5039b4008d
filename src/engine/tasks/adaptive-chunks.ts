import {
  chunkFrames,
  formatFrames,
  parseFrameList,
  type FrameChunk,
} from '../../domain/frame-list.js';
import { JOB_BOUNDS } from '../../domain/job-bounds.js';
import {
  countTasks,
  deleteTailFrom,
  lockUnclaimedTail,
  recentCompletedTasks,
} from '../../store/adaptive-chunks.js';
import type { Tx } from '../../store/database.js';
import { findJob, lockJob, recountTasks, updateJob } from '../../store/jobs.js';
import type { TaskRow } from '../../store/schema.js';
import { insertTasks, newTaskRows, updateTask } from '../../store/tasks.js';
import { inTransaction, type EngineContext } from '../context.js';
import { readJobAfterEvent } from '../events/job-reads.js';
import { syncFrameHolds } from '../jobs/frame-dependencies.js';

/*
 * Adaptive chunking: a job with `target_task_seconds` starts with tasks of its chunk size,
 * and each time one of its tasks completes, the tasks no node has taken yet (the unclaimed
 * tail, src/store/adaptive-chunks.ts) are cut again into chunks of the size that the recent
 * completed tasks say takes that long: seconds per frame measured over the last
 * SAMPLE tasks, target ÷ that. Tasks a node holds, has run or has failed keep their frames,
 * so no frame is lost or run twice; the claim statements stay as they are.
 *
 * It listens on the event bus, so it acts after the completion committed, in its own
 * transaction under the job's lock; with several replicas each hears the event, and the
 * second finds the tail already at the size and changes nothing. Events are hints: one lost
 * (a replica died) is made up by the next completion.
 */

/** Completed tasks measured: recent ones, so a sequence that gets heavier is followed. */
const SAMPLE = 20;
/** A size within this ratio of the tail's is left alone, so small noise rewrites nothing. */
const HYSTERESIS = 0.2;

/** The frames of a task: its chunk parameter's range expression, or its frame list. */
function framesOfTask(task: Pick<TaskRow, 'frames' | 'parameters_json'>): {
  frames: number[];
  key?: string;
} {
  if (task.parameters_json !== null) {
    const params = JSON.parse(task.parameters_json) as Record<string, string>;
    const keys = Object.keys(params);
    // Only a space of one chunked parameter is re-chunked (openjd-jobs.ts asks for no other).
    if (keys.length !== 1) return { frames: [] };
    return { frames: parseFrameList(params[keys[0]!]!), key: keys[0]! };
  }
  return { frames: task.frames === '' ? [] : parseFrameList(task.frames) };
}

/** Chunks of `size` frames; contiguous ones never span a gap (OpenJD's CONTIGUOUS). */
export function chunkTail(
  frames: readonly number[],
  size: number,
  contiguous: boolean,
): FrameChunk[] {
  if (!contiguous) return chunkFrames(frames, size);
  const out: FrameChunk[] = [];
  let run: number[] = [];
  const flush = () => {
    out.push(...chunkFrames(run, size));
    run = [];
  };
  for (const f of frames) {
    if (run.length > 0 && f !== run[run.length - 1]! + 1) flush();
    run.push(f);
  }
  if (run.length > 0) flush();
  return out;
}

/** The chunk size that takes `targetSeconds`, from recent tasks; undefined before any. */
export function adaptiveSize(
  samples: readonly { frames: number; ms: number }[],
  targetSeconds: number,
): number | undefined {
  const frames = samples.reduce((s, x) => s + x.frames, 0);
  const ms = samples.reduce((s, x) => s + x.ms, 0);
  if (frames === 0) return undefined;
  const perFrame = ms / frames;
  const size =
    perFrame <= 0 ? JOB_BOUNDS.chunkSize.maximum : Math.round((targetSeconds * 1000) / perFrame);
  return Math.min(JOB_BOUNDS.chunkSize.maximum, Math.max(1, size));
}

/** Re-chunks the job's unclaimed tail toward its target duration; true if it changed. */
export async function rechunkJob(ctx: EngineContext, jobId: number): Promise<boolean> {
  return inTransaction(ctx, async (tx, emit) => {
    const job = await lockJob(tx, ctx.dialect, jobId);
    if (!job || job.target_task_seconds <= 0) return false;
    if (job.state !== 'QUEUED' && job.state !== 'RUNNING') return false;
    const samples = (await recentCompletedTasks(tx, jobId, SAMPLE)).map((t) => ({
      frames: framesOfTask(t).frames.length,
      ms: Number(t.ended_at) - Number(t.started_at),
    }));
    const size = adaptiveSize(samples, job.target_task_seconds);
    if (size === undefined) return false;
    const tail = await lockUnclaimedTail(tx, ctx.dialect, jobId);
    if (tail.length === 0) return false;
    const parsed = tail.map(framesOfTask);
    const key = parsed[0]!.key;
    if (parsed.some((p) => p.key !== key || p.frames.length === 0)) return false;
    const current = parsed[0]!.frames.length;
    if (Math.abs(size - current) < Math.max(1, current * HYSTERESIS)) return false;
    const frames = parsed.flatMap((p) => p.frames).sort((a, b) => a - b);
    const chunks = chunkTail(frames, size, job.chunk_contiguous === 1);
    if (
      chunks.length === tail.length &&
      chunks.every((c, i) => c.label === formatFrames(parsed[i]!.frames))
    ) {
      return false;
    }
    await writeTail(tx, jobId, tail, chunks, key, ctx.clock());
    await updateJob(tx, jobId, { task_count: await countTasks(tx, jobId) });
    await recountTasks(tx, jobId, ctx.clock());
    emit({ type: 'job.updated', jobId, fields: ['tasks'] });
    // New tasks of a frame-dependent job wait for their frames like the others.
    const fresh = await findJob(tx, jobId);
    if (fresh) await syncFrameHolds(ctx, tx, emit, fresh);
    return true;
  });
}

/** Rewrites the tail's rows by index with the new chunks, deleting or adding the rest. */
async function writeTail(
  tx: Tx,
  jobId: number,
  tail: readonly TaskRow[],
  chunks: readonly FrameChunk[],
  key: string | undefined,
  now: number,
): Promise<void> {
  const first = tail[0]!.task_index;
  const rows = newTaskRows(
    jobId,
    chunks.map((c) =>
      key === undefined
        ? c
        : { label: '', start: c.start, end: c.end, parameters: { [key]: c.label } },
    ),
    first,
    'QUEUED',
    now,
  );
  for (const task of tail) {
    const row = rows[task.task_index - first];
    if (!row) continue;
    // The state stays (a held task stays held until syncFrameHolds looks again).
    await updateTask(tx, task.id, {
      frames: row.frames,
      frame_start: row.frame_start,
      frame_end: row.frame_end,
      parameters_json: row.parameters_json,
      last_modified: now,
    });
  }
  if (rows.length < tail.length) await deleteTailFrom(tx, jobId, first + rows.length);
  else await insertTasks(tx, rows.slice(tail.length));
}

/** Listens for completed tasks of adaptive jobs and re-chunks their tails. */
export function startAdaptiveChunking(
  ctx: EngineContext,
  onError?: (jobId: number, error: unknown) => void,
): { idle(): Promise<void>; stop(): Promise<void> } {
  const running = new Set<Promise<unknown>>();
  // Jobs known to be fixed-size, so a completion of one costs no query (bounded).
  const fixed = new Set<number>();
  const unsubscribe = ctx.bus.subscribe((event) => {
    if (event.type !== 'task.state' || event.to !== 'COMPLETED') return;
    if (fixed.has(event.jobId)) return;
    const work = (async () => {
      const job = await readJobAfterEvent(ctx, event.jobId);
      if (!job || job.target_task_seconds <= 0) {
        if (fixed.size >= 10_000) fixed.clear();
        fixed.add(event.jobId);
        return;
      }
      await rechunkJob(ctx, event.jobId);
    })()
      .catch((error: unknown) => onError?.(event.jobId, error))
      .finally(() => running.delete(work));
    running.add(work);
  });
  const idle = async () => {
    while (running.size > 0) await Promise.all([...running]);
  };
  return {
    idle,
    async stop() {
      unsubscribe();
      await idle();
    },
  };
}
