import { sql } from 'kysely';
import { openTo } from './claim-looks.js';
import type { DialectName, Executor, Tx } from './database.js';

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

/** In words: where a retry rule sends these tasks (waiting and idle reasons). */
export function pinText(p: QueuedPin): string {
  const node = p.nodeName ?? `#${p.nodeId}`;
  return p.rule === 'SAME'
    ? `${p.tasks} retried task(s) wait for node ${node}, which failed them (retry rule node SAME); any node takes them once ${node} cannot take the job`
    : `${p.tasks} retried task(s) are kept from node ${node}, which failed them (retry rule node OTHER), while another node can take the job`;
}

/** A job's queued retries bound to one node, by the rule's kind. */
export interface QueuedPin {
  rule: 'SAME' | 'OTHER';
  nodeId: number;
  nodeName: string | null;
  tasks: number;
}

export async function queuedPinsOf(db: Executor, jobId: number): Promise<QueuedPin[]> {
  const rows = await db
    .selectFrom('tasks as t')
    .leftJoin('nodes as n', 'n.id', 't.retry_node_id')
    .select((eb) => [
      't.retry_node_rule as rule',
      't.retry_node_id as nodeId',
      'n.name as nodeName',
      eb.fn.countAll<number>().as('tasks'),
    ])
    .where('t.job_id', '=', jobId)
    .where('t.state', '=', 'QUEUED')
    .where('t.retry_node_id', 'is not', null)
    .groupBy(['t.retry_node_rule', 't.retry_node_id', 'n.name'])
    .orderBy('t.retry_node_id')
    .execute();
  return rows.map((r) => ({
    rule: r.rule!,
    nodeId: Number(r.nodeId),
    nodeName: r.nodeName,
    tasks: Number(r.tasks),
  }));
}

/** How many of the job's queued tasks the node may take now (claim-looks.ts's test). */
export async function queuedOpenTo(
  db: Executor,
  dialect: DialectName,
  jobId: number,
  nodeId: number,
): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    select count(*) as n from tasks t
    where t.job_id = ${jobId} and t.state = 'QUEUED' and ${openTo(dialect, nodeId)}
  `.execute(db);
  return Number(rows[0]?.n ?? 0);
}

/**
 * How many queued retries a SAME rule binds to the node (index tasks_retry_node, 0042): when
 * the node can no longer take their jobs, they are open to any node.
 */
export async function queuedSameRetriesOn(db: Executor, nodeId: number): Promise<number> {
  const row = await db
    .selectFrom('tasks')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('retry_node_id', '=', nodeId)
    .where('retry_node_rule', '=', 'SAME')
    .where('state', '=', 'QUEUED')
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}
