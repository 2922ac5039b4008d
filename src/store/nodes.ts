import { sql } from 'kysely';
import { NODE_STATUSES, nodeStatus, type NodeStatus } from '../domain/node-status.js';
import type { Executor } from './database.js';
import type { NodeRow, NodesTable } from './schema.js';

export async function findNode(db: Executor, id: number): Promise<NodeRow | undefined> {
  return db.selectFrom('nodes').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findNodeByName(db: Executor, name: string): Promise<NodeRow | undefined> {
  return db.selectFrom('nodes').selectAll().where('name', '=', name).executeTakeFirst();
}

export async function insertNode(tx: Executor, row: Omit<NodesTable, 'id'>): Promise<number> {
  const { id } = await tx.insertInto('nodes').values(row).returning('id').executeTakeFirstOrThrow();
  return Number(id);
}

export async function updateNode(
  tx: Executor,
  id: number,
  patch: Partial<Omit<NodesTable, 'id'>>,
): Promise<void> {
  await tx.updateTable('nodes').set(patch).where('id', '=', id).execute();
}

export async function listNodes(
  db: Executor,
  options: { states?: NodesTable['state'][]; limit: number; offset: number },
): Promise<{ rows: NodeRow[]; total: number }> {
  let base = db.selectFrom('nodes');
  if (options.states?.length) base = base.where('state', 'in', options.states);
  const [rows, count] = await Promise.all([
    base.selectAll().orderBy('name').limit(options.limit).offset(options.offset).execute(),
    base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(count.n) };
}

/** Every node that could take work: online and enabled (few enough to read whole). */
export async function activeNodes(db: Executor): Promise<NodeRow[]> {
  return db
    .selectFrom('nodes')
    .selectAll()
    .where('state', '=', 'ONLINE')
    .where('enabled', '=', 1)
    .execute();
}

/** Marks ONLINE nodes silent since `before` as OFFLINE and returns them. */
export async function markSilentNodesOffline(
  tx: Executor,
  before: number,
  now: number,
): Promise<NodeRow[]> {
  return tx
    .updateTable('nodes')
    .set({ state: 'OFFLINE', last_modified: now })
    .where('state', '=', 'ONLINE')
    .where('last_heartbeat', '<', before)
    .returningAll()
    .execute();
}

/**
 * Nodes by what they are doing (src/domain/node-status.ts), in one grouped read: the live
 * execution test is the partial index executions_live (node_id where ended_at is null).
 */
export async function countNodesByStatus(db: Executor): Promise<Record<NodeStatus, number>> {
  const rows = await db
    .selectFrom('nodes as n')
    .select((eb) => [
      'n.state',
      'n.enabled',
      sql<number>`case when n.quarantined_at is null then 0 else 1 end`.as('quarantined'),
      eb
        .case()
        .when(
          eb.exists(
            eb
              .selectFrom('executions as e')
              .select('e.id')
              .whereRef('e.node_id', '=', 'n.id')
              .where('e.ended_at', 'is', null),
          ),
        )
        .then(1)
        .else(0)
        .end()
        .as('busy'),
      eb.fn.countAll<number>().as('n'),
    ])
    .groupBy(['n.state', 'n.enabled', 'quarantined', 'busy'])
    .execute();
  const counts = Object.fromEntries(NODE_STATUSES.map((s) => [s, 0])) as Record<NodeStatus, number>;
  for (const r of rows) {
    const node = { ...r, quarantined_at: Number(r.quarantined) === 1 ? 1 : null };
    counts[nodeStatus(node, Number(r.busy))] += Number(r.n);
  }
  return counts;
}

export async function countNodesByState(db: Executor): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom('nodes')
    .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy('state')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
}

export async function findNodes(db: Executor, ids: readonly number[]): Promise<NodeRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('nodes').selectAll().where('id', 'in', ids).execute();
}

/** The nodes are alive now: one statement for a batch of heartbeats. */
export async function touchNodes(tx: Executor, ids: readonly number[], now: number): Promise<void> {
  if (ids.length === 0) return;
  await tx
    .updateTable('nodes')
    .set({ last_heartbeat: now, state: 'ONLINE', last_modified: now })
    .where('id', 'in', ids)
    .execute();
}

/** Binds an unbound node to an account; a node already bound keeps its account. */
export async function bindNodeAccount(tx: Executor, id: number, accountId: number): Promise<void> {
  await tx
    .updateTable('nodes')
    .set({ account_id: accountId })
    .where('id', '=', id)
    .where('account_id', 'is', null)
    .execute();
}

/** Whether any execution, live or ended, names the node (its history refers to it). */
export async function nodeHasExecutions(db: Executor, id: number): Promise<boolean> {
  const row = await db
    .selectFrom('executions')
    .select('id')
    .where('node_id', '=', id)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

export async function deleteNode(tx: Executor, id: number): Promise<void> {
  await tx.updateTable('tasks').set({ node_id: null }).where('node_id', '=', id).execute();
  await tx.deleteFrom('node_telemetry').where('node_id', '=', id).execute();
  await tx.deleteFrom('nodes').where('id', '=', id).execute();
}

/** Reads the node under a row lock on PostgreSQL (SQLite's write transaction is the lock). */
export async function lockNode(
  tx: Executor,
  dialect: 'sqlite' | 'postgres',
  id: number,
): Promise<NodeRow | undefined> {
  const q = tx.selectFrom('nodes').selectAll().where('id', '=', id);
  return (dialect === 'postgres' ? q.forUpdate() : q).executeTakeFirst();
}
