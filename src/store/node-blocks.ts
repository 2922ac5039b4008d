import type { Executor, Tx } from './database.js';

/*
 * Bad nodes (migration 0026): each node's failures of each job, and the nodes those
 * failures block from the job. The claim's test of a block is in claim-looks.ts (SQLite)
 * and drover_claim (PostgreSQL).
 */

export interface NodeBlock {
  nodeId: number;
  nodeName: string | null;
  failures: number;
  blocked: boolean;
  lastFailureAt: number;
}

/**
 * Counts one more failure of the job on the node; past `threshold` (0: never) the node is
 * blocked from the job and the job's count of blocked nodes moves. The caller holds the
 * job's row. Answers whether this failure blocked the node.
 */
export async function countNodeFailure(
  tx: Tx,
  jobId: number,
  nodeId: number,
  threshold: number,
  now: number,
): Promise<boolean> {
  const row = await tx
    .insertInto('job_node_failures')
    .values({ job_id: jobId, node_id: nodeId, failures: 1, blocked: 0, last_failure_at: now })
    .onConflict((oc) =>
      oc.columns(['job_id', 'node_id']).doUpdateSet((eb) => ({
        failures: eb('job_node_failures.failures', '+', 1),
        last_failure_at: now,
      })),
    )
    .returning(['failures', 'blocked'])
    .executeTakeFirstOrThrow();
  if (threshold <= 0 || row.blocked === 1 || row.failures < threshold) return false;
  await tx
    .updateTable('job_node_failures')
    .set({ blocked: 1 })
    .where('job_id', '=', jobId)
    .where('node_id', '=', nodeId)
    .execute();
  await tx
    .updateTable('jobs')
    .set((eb) => ({ blocked_nodes: eb('blocked_nodes', '+', 1) }))
    .where('id', '=', jobId)
    .execute();
  return true;
}

/** The nodes that failed the job, most failures first, with whether each is blocked. */
export async function nodeFailuresOf(db: Executor, jobId: number): Promise<NodeBlock[]> {
  const rows = await db
    .selectFrom('job_node_failures as f')
    .leftJoin('nodes as n', 'n.id', 'f.node_id')
    .select(['f.node_id', 'n.name', 'f.failures', 'f.blocked', 'f.last_failure_at'])
    .where('f.job_id', '=', jobId)
    .orderBy('f.failures', 'desc')
    .orderBy('f.node_id')
    .execute();
  return rows.map((r) => ({
    nodeId: Number(r.node_id),
    nodeName: r.name,
    failures: r.failures,
    blocked: r.blocked === 1,
    lastFailureAt: Number(r.last_failure_at),
  }));
}

/**
 * Forgets the failures of the job on one node (or every node): the node may take the job
 * again and counts from nothing. The caller holds the job's row. Answers how many blocked
 * nodes were let back.
 */
export async function clearNodeFailures(tx: Tx, jobId: number, nodeId?: number): Promise<number> {
  let q = tx.deleteFrom('job_node_failures').where('job_id', '=', jobId);
  if (nodeId !== undefined) q = q.where('node_id', '=', nodeId);
  const deleted = await q.returning('blocked').execute();
  const freed = deleted.filter((r) => r.blocked === 1).length;
  if (freed > 0) {
    await tx
      .updateTable('jobs')
      .set((eb) => ({ blocked_nodes: eb('blocked_nodes', '-', freed) }))
      .where('id', '=', jobId)
      .execute();
  }
  return freed;
}
