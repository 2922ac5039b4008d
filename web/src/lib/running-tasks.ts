import { api } from '../api/endpoints';
import type { Task } from '../api/types';

/*
 * What a node runs, named as an operator names it: "job 8 · task 7 (frames 13–14)". An
 * execution's job and task never change, nor a task's index and frames, so each is asked
 * for once and kept (up to KEPT of them), however often the nodes page reloads.
 */

export interface RunningTask {
  executionId: number;
  jobId: number;
  taskId: number;
  index: number;
  frames: string;
}

const KEPT = 5000;
const known = new Map<number, Promise<RunningTask | undefined>>();
const tasks = new Map<number, Promise<Task>>();

function keep<K, V>(map: Map<K, V>, key: K, value: V): V {
  if (map.size >= KEPT) map.delete(map.keys().next().value as K);
  map.set(key, value);
  return value;
}

async function lookUp(executionId: number): Promise<RunningTask | undefined> {
  const execution = await api.execution(executionId);
  const task = await (tasks.get(execution.taskId) ??
    keep(tasks, execution.taskId, api.task(execution.taskId)));
  return {
    executionId,
    jobId: execution.jobId,
    taskId: task.id,
    index: task.index,
    frames: task.frames,
  };
}

export function runningTask(executionId: number): Promise<RunningTask | undefined> {
  const found = known.get(executionId);
  if (found) return found;
  // A lookup that failed (the execution ended and was purged) is tried again next time.
  const lookup = lookUp(executionId).catch(() => {
    known.delete(executionId);
    return undefined;
  });
  return keep(known, executionId, lookup);
}

/** "13-14" reads as the range it is: "13–14". */
export function taskLabel(t: RunningTask): string {
  return `job ${t.jobId} · task ${t.index} (frames ${t.frames.replace(/(\d)-(\d)/g, '$1–$2')})`;
}
