import { sql } from 'kysely';
import { DISPATCHABLE_JOB_STATES } from '../domain/job-state.js';
import type { Executor } from './database.js';

/* The queue grouped by job type: what a queue overview reads. */

export interface QueueGroup {
  job_type_id: number;
  is_paused: number;
  count: number;
  longest_queued: number;
  /** Drover's priority: the highest of the group's jobs (runs first). */
  top_priority: number;
}

/**
 * The jobs with work waiting for a node, grouped by job type: how many, since when the
 * oldest waits, the best priority; paused job types last, then best priority, then oldest.
 */
export async function queueGroups(
  db: Executor,
  page: { limit: number; offset: number },
): Promise<{ rows: QueueGroup[]; total: number }> {
  const base = db
    .selectFrom('jobs as j')
    .innerJoin('job_types as t', 't.id', 'j.job_type_id')
    .where('j.state', 'in', [...DISPATCHABLE_JOB_STATES])
    .where('j.tasks_queued', '>', 0)
    .where('j.deleted_at', 'is', null);
  const [rows, count] = await Promise.all([
    base
      .select((eb) => [
        'j.job_type_id',
        't.is_paused',
        eb.fn.countAll<number>().as('count'),
        eb.fn.min<number>(sql`coalesce(j.queued_at, j.created_at)`).as('longest_queued'),
        eb.fn.max<number>('j.priority').as('top_priority'),
      ])
      .groupBy(['j.job_type_id', 't.is_paused'])
      .orderBy('t.is_paused')
      .orderBy('top_priority', 'desc')
      .orderBy('longest_queued')
      .orderBy('j.job_type_id')
      .limit(page.limit)
      .offset(page.offset)
      .execute(),
    base.select(sql<number>`count(distinct j.job_type_id)`.as('n')).executeTakeFirstOrThrow(),
  ]);
  return {
    rows: rows.map((r) => ({
      job_type_id: Number(r.job_type_id),
      is_paused: Number(r.is_paused),
      count: Number(r.count),
      longest_queued: Number(r.longest_queued),
      top_priority: Number(r.top_priority),
    })),
    total: Number(count.n),
  };
}
