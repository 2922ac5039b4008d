import type { Executor, Tx } from './database.js';

/*
 * Failed tasks waiting to retry (migration 0026): PENDING with `retry_at` set until the
 * reaper queues them again. Read through the partial index `tasks_retry_at`.
 */

/** Tasks whose retry time has come, oldest first. */
export async function retriesDue(
  db: Executor,
  now: number,
  limit: number,
): Promise<{ id: number; job_id: number }[]> {
  const rows = await db
    .selectFrom('tasks')
    .select(['id', 'job_id'])
    .where('retry_at', 'is not', null)
    .where('retry_at', '<=', now)
    .orderBy('retry_at')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ id: Number(r.id), job_id: Number(r.job_id) }));
}

export async function clearRetryAt(tx: Tx, ids: readonly number[]): Promise<void> {
  if (ids.length === 0) return;
  await tx
    .updateTable('tasks')
    .set({ retry_at: null })
    .where('id', 'in', [...ids])
    .execute();
}

/** A job's tasks waiting to retry, and when the first of them is due. */
export async function waitingRetries(
  db: Executor,
  jobId: number,
): Promise<{ count: number; next: number | null }> {
  const row = await db
    .selectFrom('tasks')
    .select((eb) => [eb.fn.countAll<number>().as('count'), eb.fn.min('retry_at').as('next')])
    .where('job_id', '=', jobId)
    .where('state', '=', 'PENDING')
    .where('retry_at', 'is not', null)
    .executeTakeFirst();
  return { count: Number(row?.count ?? 0), next: row?.next == null ? null : Number(row.next) };
}
