import { sql } from 'kysely';
import { LIVE_EXECUTION_STATES } from '../domain/execution-state.js';
import { compiledQuery } from './compiled-queries.js';
import type { DialectName, Executor, Tx } from './database.js';
import type { ExecutionRow, ExecutionsTable } from './schema.js';

export async function findExecution(db: Executor, id: number): Promise<ExecutionRow | undefined> {
  return db.selectFrom('executions').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Reads an execution and, with PostgreSQL, locks it for the rest of the transaction. */
export async function lockExecution(
  tx: Tx,
  dialect: DialectName,
  id: number,
): Promise<ExecutionRow | undefined> {
  const q = tx.selectFrom('executions').selectAll().where('id', '=', id);
  return (dialect === 'postgres' ? q.forUpdate() : q).executeTakeFirst();
}

export async function updateExecution(
  tx: Executor,
  id: number,
  patch: Partial<Omit<ExecutionsTable, 'id'>>,
): Promise<void> {
  await tx.updateTable('executions').set(patch).where('id', '=', id).execute();
}

/**
 * ACQUIRED executions whose lease holds start RUNNING with a fresh lease, each only if it
 * belongs to the node named with it (null: any node); answers those that started. One
 * statement, with no read before it: on PostgreSQL, where a batch of starts was a locking
 * read and then an update, that is a round trip fewer in every write-lane transaction.
 */
export async function startAcquiredExecutions(
  tx: Executor,
  starts: readonly { id: number; nodeId: number | null }[],
  now: number,
  leaseExpiresAt: number,
): Promise<ExecutionRow[]> {
  if (starts.length === 0) return [];
  return START_ACQUIRED.execute(
    tx,
    starts.map((s) => s.id),
    starts.map((s) => s.nodeId),
    now,
    leaseExpiresAt,
  );
}

const START_ACQUIRED = compiledQuery(
  (db, ids: number[], nodeIds: (number | null)[], now: number, leaseExpiresAt: number) =>
    db
      .updateTable('executions')
      .set({
        state: 'RUNNING',
        started_at: now,
        lease_expires_at: leaseExpiresAt,
        last_heartbeat: now,
        last_modified: now,
      })
      .where((eb) =>
        eb.or(
          ids.map((id, i) =>
            eb.and([
              eb('id', '=', id),
              eb('node_id', '=', sql<number>`coalesce(${nodeIds[i]}, node_id)`),
            ]),
          ),
        ),
      )
      .where('state', '=', 'ACQUIRED')
      .where('lease_expires_at', '>=', now)
      .returningAll(),
);

export async function liveExecutionsOfTasks(
  db: Executor,
  taskIds: readonly number[],
): Promise<ExecutionRow[]> {
  if (taskIds.length === 0) return [];
  const found: ExecutionRow[] = [];
  for (let i = 0; i < taskIds.length; i += 1000) {
    found.push(
      ...(await db
        .selectFrom('executions')
        .selectAll()
        .where('task_id', 'in', taskIds.slice(i, i + 1000))
        .where('state', 'in', LIVE_EXECUTION_STATES)
        .execute()),
    );
  }
  return found;
}

export async function liveExecutionsOfJob(db: Executor, jobId: number): Promise<ExecutionRow[]> {
  return db
    .selectFrom('executions')
    .selectAll()
    .where('job_id', '=', jobId)
    .where('state', 'in', LIVE_EXECUTION_STATES)
    .execute();
}

export async function liveExecutionsOfNode(db: Executor, nodeId: number): Promise<ExecutionRow[]> {
  return (
    db
      .selectFrom('executions')
      .selectAll()
      .where('node_id', '=', nodeId)
      // `ended_at is null` reaches the partial index executions_live (migration 0021).
      .where('ended_at', 'is', null)
      .where('state', 'in', LIVE_EXECUTION_STATES)
      .execute()
  );
}

export async function listExecutions(
  db: Executor,
  filter: { jobId?: number; taskId?: number; nodeId?: number; states?: string[] },
  page: { limit: number; offset: number },
): Promise<{ rows: ExecutionRow[]; total: number }> {
  let base = db.selectFrom('executions');
  if (filter.jobId !== undefined) base = base.where('job_id', '=', filter.jobId);
  if (filter.taskId !== undefined) base = base.where('task_id', '=', filter.taskId);
  if (filter.nodeId !== undefined) base = base.where('node_id', '=', filter.nodeId);
  if (filter.states?.length) base = base.where('state', 'in', filter.states);
  const [rows, count] = await Promise.all([
    base.selectAll().orderBy('id').limit(page.limit).offset(page.offset).execute(),
    base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(count.n) };
}

/** An ended execution with what its reports show: the node's name and the task's frames. */
export interface EndedExecution extends ExecutionRow {
  /** '' when the node was removed since. */
  node_name: string;
  task_index: number;
  task_frames: string;
  /** The node's size, for usage as a share of it; null when the node was removed. */
  node_cpus: number | null;
  node_mem: number | null;
}

/**
 * The ended executions of a job (or of one of its tasks, or the one with `executionId`),
 * in the order they ended. Live ones are left out: they have not ended in anything yet.
 */
export async function endedExecutionsOfJob(
  db: Executor,
  jobId: number,
  filter: { taskIndex?: number; executionId?: number } = {},
): Promise<EndedExecution[]> {
  let q = db
    .selectFrom('executions as e')
    .innerJoin('tasks as t', 't.id', 'e.task_id')
    .leftJoin('nodes as n', 'n.id', 'e.node_id')
    .selectAll('e')
    .select([
      'n.name as node_name',
      'n.cpus as node_cpus',
      'n.mem as node_mem',
      't.task_index',
      't.frames as task_frames',
    ])
    .where('e.job_id', '=', jobId)
    .where('e.state', 'not in', LIVE_EXECUTION_STATES);
  if (filter.taskIndex !== undefined) q = q.where('t.task_index', '=', filter.taskIndex);
  if (filter.executionId !== undefined) q = q.where('e.id', '=', filter.executionId);
  const rows = await q.orderBy('e.ended_at').orderBy('e.id').execute();
  return rows.map((r) => ({
    ...r,
    node_name: r.node_name ?? '',
    node_cpus: r.node_cpus ?? null,
    node_mem: r.node_mem ?? null,
  }));
}

export async function expiredLeases(db: Executor, now: number, limit: number): Promise<number[]> {
  const rows = await db
    .selectFrom('executions')
    .select('id')
    // The live rows only, by the partial index executions_live: the lease is in no index,
    // so that renewing it writes none (migration 0021).
    .where('ended_at', 'is', null)
    .where('state', 'in', LIVE_EXECUTION_STATES)
    .where('lease_expires_at', '<', now)
    .limit(limit)
    .execute();
  return rows.map((r) => Number(r.id));
}

/**
 * RUNNING executions past their job's task timeout that still need the job's timeout
 * action: those of NOTIFY jobs only until they are flagged timed out.
 */
export async function executionsPastTimeout(
  db: Executor,
  now: number,
  limit: number,
): Promise<number[]> {
  const rows = await db
    .selectFrom('executions as e')
    .innerJoin('jobs as j', 'j.id', 'e.job_id')
    .select('e.id')
    .where('e.state', '=', 'RUNNING')
    .where('j.task_timeout_s', '>', 0)
    .where(sql<boolean>`e.started_at + j.task_timeout_s * 1000 < ${now}`)
    .where((eb) => eb.or([eb('e.timed_out', '=', 0), eb('j.task_timeout_action', '!=', 'NOTIFY')]))
    .limit(limit)
    .execute();
  return rows.map((r) => Number(r.id));
}

/**
 * Distinct nodes holding live executions of a job, other than `nodeId`: what counts against
 * its machine limit. An execution that has reached `releaseAt` percent (>= 0) no longer counts.
 */
export async function otherNodesOnJob(
  db: Executor,
  jobId: number,
  nodeId: number,
  releaseAt: number,
): Promise<number> {
  let q = db
    .selectFrom('executions')
    .select((eb) => eb.fn.count<number>('node_id').distinct().as('n'))
    .where('job_id', '=', jobId)
    .where('state', 'in', LIVE_EXECUTION_STATES)
    .where('node_id', '!=', nodeId);
  if (releaseAt >= 0) q = q.where('progress', '<', releaseAt);
  const row = await q.executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function nodeHoldsJob(db: Executor, jobId: number, nodeId: number): Promise<boolean> {
  const row = await db
    .selectFrom('executions')
    .select('id')
    .where('job_id', '=', jobId)
    .where('node_id', '=', nodeId)
    .where('state', 'in', LIVE_EXECUTION_STATES)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

export async function countDispatchedSince(db: Executor, since: number): Promise<number> {
  const row = await db
    .selectFrom('executions')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('created_at', '>=', since)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Reads executions and, with PostgreSQL, locks them for the rest of the transaction. */
export async function lockExecutions(
  tx: Tx,
  dialect: DialectName,
  ids: readonly number[],
): Promise<ExecutionRow[]> {
  if (ids.length === 0) return [];
  return LOCK_EXECUTIONS[dialect].execute(tx, [...ids]);
}

function lockExecutionsQuery(dialect: DialectName) {
  return compiledQuery((db, ids: number[]) => {
    const q = db.selectFrom('executions').selectAll().where('id', 'in', ids).orderBy('id');
    return dialect === 'postgres' ? q.forUpdate() : q;
  });
}

const LOCK_EXECUTIONS = {
  sqlite: lockExecutionsQuery('sqlite'),
  postgres: lockExecutionsQuery('postgres'),
};

/** Ends live executions as COMPLETED in one statement; those never started start now. */
export async function completeExecutionRows(
  tx: Executor,
  ids: readonly number[],
  patch: Pick<ExecutionsTable, 'exit_code' | 'timed_out'>,
  now: number,
): Promise<void> {
  await COMPLETE_EXECUTIONS.execute(tx, [...ids], patch.exit_code, patch.timed_out, now);
}

const COMPLETE_EXECUTIONS = compiledQuery(
  (db, ids: number[], exitCode: number | null, timedOut: number, now: number) =>
    db
      .updateTable('executions')
      .set((eb) => ({
        exit_code: exitCode,
        timed_out: timedOut,
        state: 'COMPLETED',
        progress: 100,
        started_at: eb.fn.coalesce('started_at', sql<number>`${now}`),
        ended_at: now,
        last_heartbeat: now,
        last_modified: now,
      }))
      .where('id', 'in', ids),
);

/**
 * Extends the leases of live executions, each only for the node that holds it (a node
 * listing another's execution extends nothing); answers the ids extended. Pairs go in
 * chunks, two parameters each, below SQLite's limit of parameters per statement.
 */
export async function extendLeasesOf(
  tx: Executor,
  held: readonly { id: number; nodeId: number }[],
  now: number,
  expiresAt: number,
): Promise<{ id: number; nodeId: number }[]> {
  const extended: { id: number; nodeId: number }[] = [];
  for (let i = 0; i < held.length; i += 1000) {
    const chunk = held.slice(i, i + 1000);
    const rows = await tx
      .updateTable('executions')
      .set({ lease_expires_at: expiresAt, last_heartbeat: now })
      .where((eb) =>
        eb(
          eb.refTuple('id', 'node_id'),
          'in',
          chunk.map((h) => eb.tuple(h.id, h.nodeId)),
        ),
      )
      .where('state', 'in', LIVE_EXECUTION_STATES)
      .where('lease_expires_at', '>=', now)
      .returning(['id', 'node_id'])
      .execute();
    extended.push(...rows.map((r) => ({ id: Number(r.id), nodeId: Number(r.node_id) })));
  }
  return extended;
}

/** The status messages of these executions that have one, by execution id. */
export async function statusMessagesOf(
  db: Executor,
  ids: readonly number[],
): Promise<Map<number, string>> {
  const wanted = [...new Set(ids)];
  if (wanted.length === 0) return new Map();
  const rows = await db
    .selectFrom('executions')
    .select(['id', 'status_message'])
    .where('id', 'in', wanted)
    .where('status_message', 'is not', null)
    .execute();
  return new Map(rows.map((r) => [r.id, r.status_message!]));
}
