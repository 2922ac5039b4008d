import { sql } from 'kysely';
import type { DialectName, Tx } from './database.js';
import type { TaskRow } from './schema.js';

/*
 * Reads and writes of adaptive chunking (src/engine/tasks/adaptive-chunks.ts). The claim
 * statements are not touched: re-chunking only ever rewrites the tail of a job's tasks that
 * no node has taken, and on PostgreSQL it locks that tail `for update skip locked` first, so
 * a task a claim holds is left out and a task re-chunked is never half-claimed.
 */

/** Recently completed tasks of a job with their run times, newest first. */
export async function recentCompletedTasks(
  tx: Tx,
  jobId: number,
  limit: number,
): Promise<Pick<TaskRow, 'frames' | 'parameters_json' | 'started_at' | 'ended_at'>[]> {
  return tx
    .selectFrom('tasks')
    .select(['frames', 'parameters_json', 'started_at', 'ended_at'])
    .where('job_id', '=', jobId)
    .where('state', '=', 'COMPLETED')
    .where('started_at', 'is not', null)
    .where('ended_at', 'is not', null)
    .orderBy('ended_at', 'desc')
    .limit(limit)
    .execute();
}

/**
 * The job's unclaimed tail: the tasks after the last one that a node has taken (or that
 * ran, or is held otherwise), which have never run, locked. Ordered by task_index and
 * consecutive up to the job's last index; a task skipped because a claim holds it cuts the
 * tail after it.
 */
export async function lockUnclaimedTail(
  tx: Tx,
  dialect: DialectName,
  jobId: number,
): Promise<TaskRow[]> {
  const last = await tx
    .selectFrom('tasks')
    .select((eb) => eb.fn.max('task_index').as('m'))
    .where('job_id', '=', jobId)
    .executeTakeFirst();
  if (last?.m === null || last?.m === undefined) return [];
  const lastIndex = Number(last.m);
  const boundary = await tx
    .selectFrom('tasks')
    .select((eb) => eb.fn.max('task_index').as('m'))
    .where('job_id', '=', jobId)
    .where((eb) =>
      eb.or([
        eb('state', 'not in', ['QUEUED', 'PENDING']),
        eb('tries', '!=', 0),
        eb('last_execution_id', 'is not', null),
      ]),
    )
    .executeTakeFirst();
  const after = boundary?.m === null || boundary?.m === undefined ? -1 : Number(boundary.m);
  let query = tx
    .selectFrom('tasks')
    .selectAll()
    .where('job_id', '=', jobId)
    .where('task_index', '>', after)
    .where('state', 'in', ['QUEUED', 'PENDING'])
    .where('tries', '=', 0)
    .where('last_execution_id', 'is', null)
    .orderBy('task_index');
  if (dialect === 'postgres') query = query.forUpdate().skipLocked();
  const rows = await query.execute();
  // Keep the run of consecutive indexes that ends at the job's last task.
  let from = rows.length;
  for (let i = rows.length - 1, want = lastIndex; i >= 0; i -= 1, want -= 1) {
    if (rows[i]!.task_index !== want) break;
    from = i;
  }
  return rows.slice(from);
}

/** Deletes a job's tasks from index `first` on that never ran (the tail's surplus). */
export async function deleteTailFrom(tx: Tx, jobId: number, first: number): Promise<void> {
  await tx
    .deleteFrom('tasks')
    .where('job_id', '=', jobId)
    .where('task_index', '>=', first)
    .where('last_execution_id', 'is', null)
    .execute();
}

/** The number of tasks a job has. */
export async function countTasks(tx: Tx, jobId: number): Promise<number> {
  const row = await tx
    .selectFrom('tasks')
    .select(sql<number>`count(*)`.as('n'))
    .where('job_id', '=', jobId)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}
