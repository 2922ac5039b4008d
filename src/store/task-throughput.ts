import { sql } from 'kysely';
import type { Executor } from './database.js';

export const MINUTE_MS = 60_000;

/**
 * Tasks that completed per minute since `since` (ms), oldest minute first; minutes without
 * any are left out. Reads only the tasks_ended_at index range, so an hour of a busy farm
 * costs one range scan, never a table scan.
 */
export async function tasksCompletedPerMinute(
  db: Executor,
  since: number,
): Promise<Array<{ minute: number; completed: number }>> {
  // A literal, not a parameter: PostgreSQL matches the GROUP BY to the select list by text.
  const minute = sql<number>`(ended_at / ${sql.lit(MINUTE_MS)})`;
  const rows = await db
    .selectFrom('tasks')
    .select([minute.as('minute'), (eb) => eb.fn.countAll<number>().as('n')])
    .where('ended_at', '>=', since)
    .where('state', '=', 'COMPLETED')
    .groupBy(minute)
    .orderBy(minute)
    .execute();
  // SQLite's and PostgreSQL's integer division both truncate; ended_at is never negative.
  return rows.map((r) => ({ minute: Math.floor(Number(r.minute)), completed: Number(r.n) }));
}
