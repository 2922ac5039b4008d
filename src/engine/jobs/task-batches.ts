import { chunkRuns } from '../../domain/frame-chunks.js';
import type { FrameRun } from '../../domain/frame-list.js';
import type { Tx } from '../../store/database.js';
import { insertTasks, newTaskRows } from '../../store/tasks.js';

/** Tasks made and inserted between two turns of the event loop. */
const TASK_BATCH = 2000;

/** Tasks that are points with parameters, a batch at a time as insertFrameTasks does. */
export async function insertParameterTasks(
  tx: Tx,
  jobId: number,
  tasks: readonly { parameters: Record<string, string>; frames?: { start: number; end: number } }[],
  state: string,
  now: number,
): Promise<void> {
  for (let i = 0; i < tasks.length; i += TASK_BATCH) {
    const batch = tasks
      .slice(i, i + TASK_BATCH)
      // A task's frames, when a format gives them, are what frame-by-frame dependencies compare.
      .map((t) => ({
        label: '',
        start: t.frames?.start ?? 0,
        end: t.frames?.end ?? 0,
        parameters: t.parameters,
      }));
    await insertTasks(tx, newTaskRows(jobId, batch, i, state, now));
    if (i + TASK_BATCH < tasks.length) await new Promise((resolve) => setImmediate(resolve));
  }
}

/**
 * Makes and inserts the tasks a batch at a time, yielding to the event loop between batches:
 * on SQLite each insert runs synchronously, and 100,000 tasks in one go kept every other
 * request (health checks included) waiting for seconds.
 */
export async function insertFrameTasks(
  tx: Tx,
  jobId: number,
  runs: FrameRun[] | undefined,
  chunkSize: number,
  state: string,
  now: number,
): Promise<void> {
  if (!runs) {
    await insertTasks(tx, newTaskRows(jobId, [{ label: '', start: 0, end: 0 }], 0, state, now));
    return;
  }
  let batch: { label: string; start: number; end: number }[] = [];
  let index = 0;
  for (const chunk of chunkRuns(runs, chunkSize)) {
    batch.push(chunk);
    if (batch.length === TASK_BATCH) {
      await insertTasks(tx, newTaskRows(jobId, batch, index, state, now));
      index += batch.length;
      batch = [];
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  if (batch.length > 0) await insertTasks(tx, newTaskRows(jobId, batch, index, state, now));
}
