import type { Executor, Tx } from './database.js';

/*
 * Retries bound to a node (migration 0039): the failing node a retry rule kept a task on
 * (SAME) or away from (OTHER). The claim's test of them is drover_retry_open (PostgreSQL)
 * and claim-looks.ts (SQLite).
 */

/** The task's failed executions on the node: its tries there that did not succeed. */
export async function failuresOnNode(db: Executor, taskId: number, nodeId: number) {
  const row = await db
    .selectFrom('executions')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('task_id', '=', taskId)
    .where('node_id', '=', nodeId)
    .where('error_name', 'is not', null)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/**
 * Marks the job as holding node-bound retries, once: from then on the claim reads its tasks
 * through the node test. The caller holds the job's row.
 */
export async function markPinnedRetries(tx: Tx, jobId: number): Promise<void> {
  await tx.updateTable('jobs').set({ pinned_retries: 1 }).where('id', '=', jobId).execute();
}
