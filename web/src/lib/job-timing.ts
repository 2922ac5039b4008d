import type { Job, JobStats } from '../api/types';
import { formatDuration } from './format';

/*
 * A job's elapsed time and an estimate of what is left, from the mean of its completed
 * tries (GET /stats/jobs) and how many of its tasks run at once now.
 */

const ACTIVE = new Set(['QUEUED', 'RUNNING']);

export function elapsedMs(job: Job, now: number): number | undefined {
  if (!job.startedAt) return undefined;
  const end = job.endedAt ? Date.parse(job.endedAt) : now;
  return Math.max(0, end - Date.parse(job.startedAt));
}

export interface Eta {
  ms: number | undefined;
  /** Why there is no figure, or how it was made; shown as the cell's tooltip. */
  why: string;
}

export function eta(job: Job, stats: JobStats | undefined): Eta {
  if (!ACTIVE.has(job.state)) return { ms: undefined, why: `${job.state.toLowerCase()}` };
  if (!stats) return { ms: undefined, why: 'loading' };
  if (stats.meanTaskMs === null) return { ms: undefined, why: 'no task has completed yet' };
  const t = job.tasks;
  const left = t.total - t.completed - t.failed - t.canceled;
  if (left <= 0) return { ms: 0, why: 'every task has run' };
  // Waves of as many tasks as run now (at least one), each as long as the mean try.
  const parallel = Math.max(1, t.running);
  const ms = Math.ceil(left / parallel) * stats.meanTaskMs;
  return {
    ms,
    why: `${left} tasks left, ${parallel} at a time, ${formatDuration(stats.meanTaskMs)} each (mean of the last ${stats.sampled} completed)`,
  };
}
