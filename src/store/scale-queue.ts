import { sql } from 'kysely';
import { DISPATCHABLE_JOB_STATES } from '../domain/job-state.js';
import type { Executor } from './database.js';
import type { ExecutionRow } from './schema.js';

/*
 * What Scale's queue app reads: the queue grouped by job type, and executions across jobs
 * (the legacy /v5/job-executions/ list).
 */

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

export interface ExecutionListFilter {
  /** last_modified at or after. */
  modifiedFrom?: number;
  /** last_modified at or before. */
  modifiedTo?: number;
  states?: string[];
  jobTypeIds?: number[];
  jobTypeNames?: string[];
  jobTypeCategories?: string[];
  nodeIds?: number[];
}

const EXECUTION_ORDER = {
  last_modified: 'e.last_modified',
  id: 'e.id',
  created: 'e.created_at',
} as const;
export type ExecutionOrder = keyof typeof EXECUTION_ORDER;

/** Executions of every job (of jobs not deleted), in one order. */
export async function listExecutionsOfAllJobs(
  db: Executor,
  filter: ExecutionListFilter,
  order: ExecutionOrder,
  descending: boolean,
  page: { limit: number; offset: number },
): Promise<{ rows: ExecutionRow[]; total: number }> {
  const some = <T>(values: T[], none: T): T[] => (values.length ? values : [none]);
  let base = db
    .selectFrom('executions as e')
    .innerJoin('jobs as j', 'j.id', 'e.job_id')
    .innerJoin('job_types as t', 't.id', 'j.job_type_id')
    .where('j.deleted_at', 'is', null);
  if (filter.modifiedFrom !== undefined)
    base = base.where('e.last_modified', '>=', filter.modifiedFrom);
  if (filter.modifiedTo !== undefined)
    base = base.where('e.last_modified', '<=', filter.modifiedTo);
  if (filter.states) base = base.where('e.state', 'in', some(filter.states, ''));
  if (filter.jobTypeIds) base = base.where('t.id', 'in', some(filter.jobTypeIds, -1));
  if (filter.jobTypeNames) base = base.where('t.name', 'in', some(filter.jobTypeNames, ''));
  if (filter.jobTypeCategories)
    base = base.where('t.category', 'in', some(filter.jobTypeCategories, ''));
  if (filter.nodeIds) base = base.where('e.node_id', 'in', some(filter.nodeIds, -1));
  const direction = descending ? 'desc' : 'asc';
  const [rows, count] = await Promise.all([
    base
      .selectAll('e')
      .orderBy(EXECUTION_ORDER[order], direction)
      .orderBy('e.id', direction)
      .limit(page.limit)
      .offset(page.offset)
      .execute(),
    base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(count.n) };
}
