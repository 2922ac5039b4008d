import { describeError } from '../components/ErrorMessage';
import { api } from './endpoints';
import type { JobAction } from './types';

export type BulkAction = JobAction | 'delete' | 'priority';

export interface BulkResult {
  done: number[];
  refused: Array<{ id: number; message: string }>;
}

/** Eight at a time: quick for hundreds of jobs without flooding the server. */
const CONCURRENCY = 8;

/** Applies one action to many jobs; each job's refusal is kept with its reason. */
export async function applyToJobs(
  ids: number[],
  action: BulkAction,
  priority?: number,
): Promise<BulkResult> {
  const result: BulkResult = { done: [], refused: [] };
  const queue = [...ids];
  const one = async (id: number) => {
    try {
      if (action === 'delete') await api.deleteJob(id);
      else if (action === 'priority') await api.setPriority(id, priority ?? 50);
      else await api.jobAction(id, action);
      result.done.push(id);
    } catch (error) {
      result.refused.push({ id, message: describeError(error) });
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, queue.length) }, async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) await one(id);
    }),
  );
  return result;
}

const PAST: Record<BulkAction, string> = {
  suspend: 'Suspended',
  resume: 'Resumed',
  requeue: 'Requeued',
  cancel: 'Canceled',
  pend: 'Pended',
  release: 'Released',
  undelete: 'Restored',
  delete: 'Deleted',
  priority: 'Changed the priority of',
};

export function summarise(action: BulkAction, result: BulkResult): string {
  const jobs = (n: number) => `${n} job${n === 1 ? '' : 's'}`;
  const parts = [];
  if (result.done.length) parts.push(`${PAST[action]} ${jobs(result.done.length)}.`);
  if (result.refused.length) {
    const first = result.refused.slice(0, 3).map((r) => `job ${r.id}: ${r.message}`);
    const more = result.refused.length > 3 ? ` (and ${result.refused.length - 3} more)` : '';
    parts.push(`${jobs(result.refused.length)} refused — ${first.join('; ')}${more}`);
  }
  return parts.join(' ');
}
