import { describeError } from '../components/ErrorMessage';
import type { JobCommand } from '../lib/job-actions';
import { api } from './endpoints';

export type BulkAction = JobCommand | 'priority';

export interface BulkResult {
  done: number[];
  refused: Array<{ id: number; message: string }>;
  /** Selected jobs left alone because their state does not allow the action. */
  skipped: number;
}

/** Eight at a time: quick for hundreds of jobs without flooding the server. */
const CONCURRENCY = 8;

async function applyOne(id: number, action: BulkAction, priority: number): Promise<void> {
  switch (action) {
    case 'delete':
      return api.deleteJob(id);
    case 'purge':
      return api.deleteJob(id, true);
    case 'priority':
      await api.setPriority(id, priority);
      return;
    case 'retry':
      // The server's "resume failed tasks": failed tasks requeued with their tries forgotten.
      await api.jobAction(id, 'resume-failed');
      return;
    default:
      await api.jobAction(id, action);
  }
}

/** Applies one action to many jobs; each job's refusal is kept with its reason. */
export async function applyToJobs(
  ids: number[],
  action: BulkAction,
  priority = 50,
  skipped = 0,
): Promise<BulkResult> {
  const result: BulkResult = { done: [], refused: [], skipped };
  const queue = [...ids];
  const one = async (id: number) => {
    try {
      await applyOne(id, action, priority);
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
  retry: 'Retried the failed tasks of',
  requeue: 'Requeued',
  cancel: 'Canceled',
  pend: 'Pended',
  release: 'Released',
  undelete: 'Restored',
  delete: 'Deleted',
  purge: 'Purged',
  priority: 'Changed the priority of',
};

export const jobCount = (n: number) => `${n.toLocaleString()} job${n === 1 ? '' : 's'}`;

export function summarise(action: BulkAction, result: BulkResult): string {
  const parts = [];
  if (result.done.length) parts.push(`${PAST[action]} ${jobCount(result.done.length)}.`);
  if (result.skipped) {
    parts.push(`Left ${jobCount(result.skipped)} alone: their state does not allow it.`);
  }
  if (result.refused.length) {
    const first = result.refused.slice(0, 3).map((r) => `job ${r.id}: ${r.message}`);
    const more = result.refused.length > 3 ? ` (and ${result.refused.length - 3} more)` : '';
    parts.push(`${jobCount(result.refused.length)} refused — ${first.join('; ')}${more}`);
  }
  return parts.join(' ');
}
