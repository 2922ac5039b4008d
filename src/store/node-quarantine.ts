import { sql } from 'kysely';
import type { NodeFailureStats } from '../domain/node-quarantine.js';
import type { Executor, Tx } from './database.js';

/*
 * Farm-wide quarantine (migration 0036): each node's ended and failed executions within the
 * window, and the marks a quarantine and its clearing leave on the node.
 */

/**
 * Per node, the executions that ended since `since` (and since its last clearing), and how
 * many of them FAILED. Released and canceled executions are not the node's doing: only
 * COMPLETED and FAILED count. A range read of `executions_ended`.
 */
export async function nodeFailureStats(db: Executor, since: number): Promise<NodeFailureStats[]> {
  const rows = await db
    .selectFrom('executions as e')
    .innerJoin('nodes as n', 'n.id', 'e.node_id')
    .select((eb) => [
      'e.node_id',
      eb.fn.countAll<number>().as('ended'),
      sql<number>`sum(case when e.state = 'FAILED' then 1 else 0 end)`.as('failed'),
    ])
    .where('e.ended_at', '>=', since)
    .where('e.state', 'in', ['COMPLETED', 'FAILED'])
    .where((eb) =>
      eb.or([
        eb('n.quarantine_cleared_at', 'is', null),
        eb('e.ended_at', '>', eb.ref('n.quarantine_cleared_at')),
      ]),
    )
    .groupBy('e.node_id')
    .execute();
  return rows.map((r) => ({
    nodeId: Number(r.node_id),
    ended: Number(r.ended),
    failed: Number(r.failed),
  }));
}

/**
 * Quarantines the node unless it is already, or an operator disabled it (their reason, not
 * ours, holds it); answers whether this call did.
 */
export async function markQuarantined(
  tx: Tx,
  nodeId: number,
  reason: string,
  now: number,
): Promise<boolean> {
  const rows = await tx
    .updateTable('nodes')
    .set({ enabled: 0, quarantined_at: now, quarantine_reason: reason, last_modified: now })
    .where('id', '=', nodeId)
    .where('enabled', '=', 1)
    .where('quarantined_at', 'is', null)
    .returning('id')
    .execute();
  return rows.length > 0;
}

/** Lifts the node's quarantine and lets it work; answers whether it was quarantined. */
export async function clearQuarantineMark(tx: Tx, nodeId: number, now: number): Promise<boolean> {
  const rows = await tx
    .updateTable('nodes')
    .set({
      enabled: 1,
      quarantined_at: null,
      quarantine_reason: null,
      quarantine_cleared_at: now,
      last_modified: now,
    })
    .where('id', '=', nodeId)
    .where('quarantined_at', 'is not', null)
    .returning('id')
    .execute();
  return rows.length > 0;
}
