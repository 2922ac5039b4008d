import type { ExpressionBuilder } from 'kysely';
import type { Executor } from './database.js';
import type { Database, TaskRow, TasksTable } from './schema.js';

/** A task to insert; `retry_at` is null unless given (a waiting retry, migration 0026). */
export type NewTask = Omit<TasksTable, 'id' | 'retry_at' | 'retry_node_id' | 'retry_node_rule'> & {
  retry_at?: number | null;
};

// SQLite binds at most 32766 parameters per statement; 14 columns × 1000 rows stays well under.
const INSERT_BATCH = 1000;

/** Fresh task rows for chunks of frames (or points with parameters), numbered from `firstIndex`. */
export function newTaskRows(
  jobId: number,
  chunks: readonly {
    label: string;
    start: number;
    end: number;
    parameters?: Record<string, string>;
  }[],
  firstIndex: number,
  state: string,
  now: number,
): NewTask[] {
  return chunks.map((chunk, i) => ({
    job_id: jobId,
    task_index: firstIndex + i,
    frames: chunk.label,
    frame_start: chunk.start,
    frame_end: chunk.end,
    parameters_json: chunk.parameters ? JSON.stringify(chunk.parameters) : null,
    state,
    tries: 0,
    progress: 0,
    node_id: null,
    last_execution_id: null,
    started_at: null,
    ended_at: null,
    last_status_change: now,
    last_modified: now,
  }));
}

export async function insertTasks(tx: Executor, rows: NewTask[]): Promise<void> {
  for (let i = 0; i < rows.length; i += INSERT_BATCH) {
    await tx
      .insertInto('tasks')
      .values(rows.slice(i, i + INSERT_BATCH))
      .execute();
  }
}

export async function findTask(db: Executor, id: number): Promise<TaskRow | undefined> {
  return db.selectFrom('tasks').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findTaskByIndex(
  db: Executor,
  jobId: number,
  index: number,
): Promise<TaskRow | undefined> {
  return db
    .selectFrom('tasks')
    .selectAll()
    .where('job_id', '=', jobId)
    .where('task_index', '=', index)
    .executeTakeFirst();
}

export async function listTasks(
  db: Executor,
  jobId: number,
  options: { states?: string[]; limit: number; offset: number },
): Promise<{ rows: TaskRow[]; total: number }> {
  let base = db.selectFrom('tasks').where('job_id', '=', jobId);
  if (options.states?.length) base = base.where('state', 'in', options.states);
  const [rows, count] = await Promise.all([
    base.selectAll().orderBy('task_index').limit(options.limit).offset(options.offset).execute(),
    base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(count.n) };
}

export async function tasksInStates(
  db: Executor,
  jobId: number,
  states: readonly string[],
  indexes?: readonly number[],
): Promise<TaskRow[]> {
  if (states.length === 0) return [];
  let q = db
    .selectFrom('tasks')
    .selectAll()
    .where('job_id', '=', jobId)
    .where('state', 'in', states);
  if (indexes) q = q.where('task_index', 'in', indexes.length ? indexes : [-1]);
  return q.orderBy('task_index').execute();
}

export async function updateTask(
  tx: Executor,
  id: number,
  patch: Partial<Omit<TasksTable, 'id'>>,
): Promise<void> {
  await tx.updateTable('tasks').set(patch).where('id', '=', id).execute();
}

/** Moves the given tasks to one state; ids come from a read in the same transaction. */
export async function setTasksState(
  tx: Executor,
  ids: readonly number[],
  patch: Partial<Omit<TasksTable, 'id'>>,
): Promise<void> {
  for (let i = 0; i < ids.length; i += INSERT_BATCH) {
    await tx
      .updateTable('tasks')
      .set(patch)
      .where('id', 'in', ids.slice(i, i + INSERT_BATCH))
      .execute();
  }
}

export async function deleteTasksOfJob(tx: Executor, jobId: number): Promise<void> {
  await tx.deleteFrom('tasks').where('job_id', '=', jobId).execute();
}

export async function maxTaskIndex(db: Executor, jobId: number): Promise<number> {
  const row = await db
    .selectFrom('tasks')
    .select((eb) => eb.fn.max('task_index').as('m'))
    .where('job_id', '=', jobId)
    .executeTakeFirst();
  return row?.m === null || row?.m === undefined ? -1 : Number(row.m);
}

/** The jobs' task counters summed, one column per task state. */
function taskStateSums(eb: ExpressionBuilder<Database, 'jobs'>) {
  return [
    eb.fn.sum<number>('tasks_pending').as('PENDING'),
    eb.fn.sum<number>('tasks_queued').as('QUEUED'),
    eb.fn.sum<number>('tasks_running').as('RUNNING'),
    eb.fn.sum<number>('tasks_suspended').as('SUSPENDED'),
    eb.fn.sum<number>('tasks_completed').as('COMPLETED'),
    eb.fn.sum<number>('tasks_failed').as('FAILED'),
    eb.fn.sum<number>('tasks_canceled').as('CANCELED'),
  ];
}

export async function countTasksByState(db: Executor): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom('jobs')
    .select((eb) => taskStateSums(eb))
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  return Object.fromEntries(Object.entries(rows ?? {}).map(([k, v]) => [k, Number(v ?? 0)]));
}

/** Forgets the tries of a job's QUEUED tasks (a requeue starts every task afresh). */
export async function resetQueuedTries(tx: Executor, jobId: number, now: number): Promise<void> {
  await tx
    .updateTable('tasks')
    .set({ tries: 0, last_modified: now })
    .where('job_id', '=', jobId)
    .where('state', '=', 'QUEUED')
    .where('tries', '>', 0)
    .execute();
}

/** The tasks of `ids` that exist, by id; read in chunks below SQLite's variable limit. */
export async function findTasks(db: Executor, ids: readonly number[]): Promise<TaskRow[]> {
  const found: TaskRow[] = [];
  for (let i = 0; i < ids.length; i += INSERT_BATCH) {
    found.push(
      ...(await db
        .selectFrom('tasks')
        .selectAll()
        .where('id', 'in', ids.slice(i, i + INSERT_BATCH))
        .execute()),
    );
  }
  return found.sort((a, b) => a.id - b.id);
}

/** Whether the job's tasks are points with parameters (not frames of a frame list). */
export async function hasParameterTasks(db: Executor, jobId: number): Promise<boolean> {
  const row = await db
    .selectFrom('tasks')
    .select('id')
    .where('job_id', '=', jobId)
    .where('parameters_json', 'is not', null)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Tasks by pool and state (of jobs not deleted), from the jobs' counters: the `maxPools`
 * pools with most tasks, and the rest summed under `(other)`, so the series stay bounded
 * whatever pools users make up.
 */
export async function countTasksByPoolAndState(
  db: Executor,
  maxPools: number,
): Promise<{ pool: string; counts: Record<string, number> }[]> {
  const rows = await db
    .selectFrom('jobs')
    .select((eb) => ['pool', ...taskStateSums(eb), eb.fn.sum<number>('task_count').as('total')])
    .where('deleted_at', 'is', null)
    .groupBy('pool')
    .execute();
  const pools = rows
    .map(({ pool, total, ...counts }) => ({
      pool,
      total: Number(total ?? 0),
      counts: Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, Number(v ?? 0)])),
    }))
    .sort((a, b) => b.total - a.total || a.pool.localeCompare(b.pool));
  const kept = pools.slice(0, maxPools).map(({ pool, counts }) => ({ pool, counts }));
  const rest = pools.slice(maxPools);
  if (rest.length > 0) {
    const counts: Record<string, number> = {};
    for (const p of rest)
      for (const [k, v] of Object.entries(p.counts)) counts[k] = (counts[k] ?? 0) + v;
    kept.push({ pool: '(other)', counts });
  }
  return kept;
}
