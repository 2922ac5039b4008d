import { sql } from 'kysely';
import { JOB_STATES, type JobState } from '../domain/job-state.js';
import type { Executor } from './database.js';

/** Task counts as the jobs table keeps them, per state, and their total. */
export interface FamilyTaskCounts {
  total: number;
  pending: number;
  queued: number;
  running: number;
  suspended: number;
  completed: number;
  failed: number;
  canceled: number;
}

/** A parent job's progress: its steps (children) by state, and their tasks added up. */
export interface FamilyProgress {
  /** Every descendant's tasks: a child that is itself a parent adds its own children's. */
  tasks: FamilyTaskCounts;
  /** The direct children (the steps) by state. */
  steps: { total: number } & Record<Lowercase<JobState>, number>;
}

/** Deeper than any composite type nests (the CTE stops there whatever the rows say). */
const MAX_DEPTH = 16;
/** Ids bound per query: SQLite's variable limit, and a page is 1,000 jobs at most. */
const IDS_PER_QUERY = 1000;

const TASK_COLUMNS = [
  ['total', 'task_count'],
  ['pending', 'tasks_pending'],
  ['queued', 'tasks_queued'],
  ['running', 'tasks_running'],
  ['suspended', 'tasks_suspended'],
  ['completed', 'tasks_completed'],
  ['failed', 'tasks_failed'],
  ['canceled', 'tasks_canceled'],
] as const;

/**
 * The progress of the parent jobs among `ids`, in one grouped query per 1,000 ids (a job
 * list's page reads its parents' progress at once, not one query per row). Parents have no
 * tasks of their own (src/engine/jobs/job-families.ts); an id with no children is absent
 * from the answer. The tasks come from the counters every job keeps, so a family of any
 * size costs a walk of its job rows, never of its tasks.
 */
export async function familyProgress(
  db: Executor,
  ids: readonly number[],
): Promise<Map<number, FamilyProgress>> {
  const unique = [...new Set(ids)];
  const found = new Map<number, FamilyProgress>();
  for (let i = 0; i < unique.length; i += IDS_PER_QUERY) {
    const chunk = unique.slice(i, i + IDS_PER_QUERY);
    const taskSums = TASK_COLUMNS.map(
      ([name, column]) => sql`SUM(j.${sql.ref(column)}) AS ${sql.ref(`t_${name}`)}`,
    );
    const stepSums = JOB_STATES.map(
      (state) =>
        sql`SUM(CASE WHEN f.depth = 1 AND j.state = ${state} THEN 1 ELSE 0 END) AS ${sql.ref(`s_${state.toLowerCase()}`)}`,
    );
    const { rows } = await sql<Record<string, string | number | null>>`
      WITH RECURSIVE family (root, id, depth) AS (
        SELECT parent_id, id, 1 FROM jobs WHERE parent_id IN (${sql.join(chunk)})
        UNION ALL
        SELECT f.root, j.id, f.depth + 1 FROM jobs j JOIN family f ON j.parent_id = f.id
        WHERE f.depth < ${MAX_DEPTH}
      )
      SELECT f.root AS root,
        SUM(CASE WHEN f.depth = 1 THEN 1 ELSE 0 END) AS s_total,
        ${sql.join([...taskSums, ...stepSums])}
      FROM family f JOIN jobs j ON j.id = f.id
      GROUP BY f.root`.execute(db);
    for (const row of rows) {
      const n = (key: string): number => Number(row[key] ?? 0);
      const tasks = Object.fromEntries(
        TASK_COLUMNS.map(([name]) => [name, n(`t_${name}`)]),
      ) as unknown as FamilyTaskCounts;
      const steps = Object.fromEntries([
        ['total', n('s_total')],
        ...JOB_STATES.map((s) => [s.toLowerCase(), n(`s_${s.toLowerCase()}`)]),
      ]) as FamilyProgress['steps'];
      found.set(Number(row.root), { tasks, steps });
    }
  }
  return found;
}
