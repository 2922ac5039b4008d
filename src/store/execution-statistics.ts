import { sql } from 'kysely';
import type { Executor } from './database.js';
import type { TaskRow } from './schema.js';

/*
 * Reads that summarise executions for the dialects' statistics and task views (Deadline's
 * Errs, Slave, Job Statistics). Aggregates are computed in SQL, per job, on the indexed
 * executions.job_id and executions.task_id columns.
 */

/** Failed executions per job, for the given jobs. */
export async function failedExecutionCounts(
  db: Executor,
  jobIds: readonly number[],
): Promise<Map<number, number>> {
  const counts = new Map<number, number>();
  for (let i = 0; i < jobIds.length; i += 1000) {
    const rows = await db
      .selectFrom('executions')
      .select(['job_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('job_id', 'in', jobIds.slice(i, i + 1000))
      .where('state', '=', 'FAILED')
      .groupBy('job_id')
      .execute();
    for (const r of rows) counts.set(Number(r.job_id), Number(r.n));
  }
  return counts;
}

export interface ExecutionStateSummary {
  state: string;
  count: number;
  /**
   * Sum, least and most of the run time over executions that started and ended: the wall
   * time the node measured, else ended_at − started_at (as /api/v1/usage counts it).
   */
  totalMs: number;
  minMs: number | null;
  maxMs: number | null;
  firstStart: number | null;
  lastEnd: number | null;
  /** CPU seconds the nodes measured. */
  cpuSeconds: number;
  /** The mean share of its machine a measured execution used, percent; null: none measured. */
  cpuPercent: number | null;
  /** The largest peak memory measured; null when none was. */
  peakMemoryBytes: number | null;
}

export async function executionSummaryOfJob(
  db: Executor,
  jobId: number,
): Promise<ExecutionStateSummary[]> {
  const duration = sql<number>`coalesce(e.wall_seconds * 1000, e.ended_at - e.started_at)`;
  // The machine's share each measured execution used, as Deadline shows CPU usage; nullif
  // keeps a zero wall time from dividing (PostgreSQL refuses a division by zero).
  const cpuPercent = sql<number>`100.0 * e.cpu_seconds / nullif(coalesce(e.wall_seconds, (e.ended_at - e.started_at) / 1000.0) * (case when n.cpus > 0 then n.cpus else 1 end), 0)`;
  const rows = await db
    .selectFrom('executions as e')
    .leftJoin('nodes as n', 'n.id', 'e.node_id')
    .select((eb) => [
      'e.state',
      eb.fn.countAll<number>().as('n'),
      eb.fn.sum<number>(duration).as('total'),
      eb.fn.min<number>(duration).as('least'),
      eb.fn.max<number>(duration).as('most'),
      eb.fn.min<number>('e.started_at').as('first_start'),
      eb.fn.max<number>('e.ended_at').as('last_end'),
      eb.fn.sum<number>('e.cpu_seconds').as('cpu'),
      eb.fn.avg<number>(cpuPercent).as('cpu_percent'),
      eb.fn.max<number>('e.peak_memory_bytes').as('peak'),
    ])
    .where('e.job_id', '=', jobId)
    .groupBy('e.state')
    .execute();
  const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
  return rows.map((r) => ({
    state: r.state,
    count: Number(r.n),
    totalMs: num(r.total) ?? 0,
    minMs: num(r.least),
    maxMs: num(r.most),
    firstStart: num(r.first_start),
    lastEnd: num(r.last_end),
    cpuSeconds: num(r.cpu) ?? 0,
    cpuPercent: num(r.cpu_percent),
    peakMemoryBytes: num(r.peak),
  }));
}

export interface TaskWithFacts extends TaskRow {
  /** Name of the node of the task's latest execution, if any. */
  node_name: string | null;
  /** Failed executions of the task. */
  errors: number;
  /** When its first execution started. */
  first_start: number | null;
  /** Milliseconds its latest execution ran (to now while it runs). */
  last_started: number | null;
  last_ended: number | null;
  /** What the node measured of its latest execution, and the node's size. */
  last_cpu_seconds: number | null;
  last_wall_seconds: number | null;
  last_peak_memory_bytes: number | null;
  /** What the command of its latest execution last said it is doing (openjd_status). */
  last_status_message: string | null;
  node_cpus: number | null;
  node_mem: number | null;
}

/**
 * Task indexes bound per query: a selection of thousands (Deadline's TaskList) in one `IN`
 * passed SQLite's limit of 32,766 bound variables and was a 500.
 */
const INDEXES_PER_QUERY = 1000;

/** The tasks of a job, or those of `indexes` (in chunks), in task order, with their facts. */
export async function tasksWithFacts(
  db: Executor,
  jobId: number,
  indexes?: readonly number[],
): Promise<TaskWithFacts[]> {
  if (!indexes || indexes.length <= INDEXES_PER_QUERY) return tasksWithFactsIn(db, jobId, indexes);
  const found: TaskWithFacts[] = [];
  for (let i = 0; i < indexes.length; i += INDEXES_PER_QUERY) {
    found.push(...(await tasksWithFactsIn(db, jobId, indexes.slice(i, i + INDEXES_PER_QUERY))));
  }
  return found.sort((a, b) => a.task_index - b.task_index);
}

async function tasksWithFactsIn(
  db: Executor,
  jobId: number,
  indexes?: readonly number[],
): Promise<TaskWithFacts[]> {
  let q = db
    .selectFrom('tasks as t')
    .leftJoin('executions as e', 'e.id', 't.last_execution_id')
    .leftJoin('nodes as n', 'n.id', 'e.node_id')
    .selectAll('t')
    .select((eb) => [
      'n.name as node_name',
      'n.cpus as node_cpus',
      'n.mem as node_mem',
      'e.started_at as last_started',
      'e.ended_at as last_ended',
      'e.cpu_seconds as last_cpu_seconds',
      'e.wall_seconds as last_wall_seconds',
      'e.peak_memory_bytes as last_peak_memory_bytes',
      'e.status_message as last_status_message',
      eb
        .selectFrom('executions as f')
        .select((f) => f.fn.countAll<number>().as('c'))
        .whereRef('f.task_id', '=', 't.id')
        .where('f.state', '=', 'FAILED')
        .as('errors'),
      eb
        .selectFrom('executions as s')
        .select((s) => s.fn.min<number>('s.started_at').as('m'))
        .whereRef('s.task_id', '=', 't.id')
        .as('first_start'),
    ])
    .where('t.job_id', '=', jobId);
  if (indexes) q = q.where('t.task_index', 'in', indexes.length ? indexes : [-1]);
  const rows = await q.orderBy('t.task_index').execute();
  return rows.map((r) => ({
    ...r,
    errors: Number(r.errors ?? 0),
    first_start:
      r.first_start === null || r.first_start === undefined ? null : Number(r.first_start),
    last_started: r.last_started ?? null,
    last_ended: r.last_ended ?? null,
    last_cpu_seconds: r.last_cpu_seconds ?? null,
    last_wall_seconds: r.last_wall_seconds ?? null,
    last_peak_memory_bytes: r.last_peak_memory_bytes ?? null,
    last_status_message: r.last_status_message ?? null,
    node_cpus: r.node_cpus ?? null,
    node_mem: r.node_mem ?? null,
    node_name: r.node_name ?? null,
  })) as TaskWithFacts[];
}
