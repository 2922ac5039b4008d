import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/*
 * Retry delays (docs/scheduling.md): a job's `retry_delay_json` (null: none) says how long
 * a failed task waits; the task waits PENDING with `tasks.retry_at` set, and the reaper
 * queues it again when that time comes, through the partial index `tasks_retry_at`.
 *
 * Bad nodes (docs/scheduling.md): a node that fails `jobs.bad_node_failures` executions of
 * one job (0: never) stops taking that job, as Flamenco's blocklist does (3 by default).
 * job_node_failures counts each node's failures of each job, and `blocked` marks those
 * past the count; `jobs.blocked_nodes` counts the blocked ones, so the claim's walk tests
 * one column of the row it already reads for every job without any. Clearing a node
 * (or all) deletes its rows: it starts counting from nothing again.
 *
 * SQLite: a job with blocked nodes makes what a node may take depend on the node, so
 * `jobs_node_specific` (0019, 0025) takes it in.
 *
 * PostgreSQL: `drover_claim` (0019, 0021, 0025) is defined again with the test added to
 * its walk, after the test 0025 added, by replacing that anchor text; the migration fails
 * if it is not found exactly once. The test reads without locks: a node blocked by a failure
 * that commits while it claims may take one more task of the job, as may a node whose
 * failure comes just after its claim.
 */
const ANCHOR = 'and (j.uses_limits = 0 or drover_limits_open(j.id, nd.id, nd.name))';
const BLOCK_TEST = `and (j.blocked_nodes = 0 or not exists (select 1 from job_node_failures b
                    where b.job_id = j.id and b.node_id = nd.id and b.blocked = 1))`;

export function badNodesAndRetryDelaysSchema(dialect: DialectName) {
  async function up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('jobs').addColumn('retry_delay_json', 'text').execute();
    await db.schema.alterTable('tasks').addColumn('retry_at', 'bigint').execute();
    await sql`create index tasks_retry_at on tasks (retry_at) where retry_at is not null`.execute(
      db,
    );
    await db.schema
      .createTable('job_node_failures')
      .addColumn('job_id', 'bigint', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
      .addColumn('node_id', 'bigint', (c) => c.notNull())
      .addColumn('failures', 'integer', (c) => c.notNull())
      .addColumn('blocked', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('last_failure_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('job_node_failures_pk', ['job_id', 'node_id'])
      .execute();
    await db.schema
      .alterTable('jobs')
      .addColumn('bad_node_failures', 'integer', (c) => c.notNull().defaultTo(3))
      .execute();
    await db.schema
      .alterTable('jobs')
      .addColumn('blocked_nodes', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    if (dialect !== 'postgres') {
      await sql`drop index jobs_node_specific`.execute(db);
      await sql`
        create index jobs_node_specific on jobs (id)
        where state in ('QUEUED', 'RUNNING') and deleted_at is null
          and (machine_limit > 0 or node_list_mode <> 'NONE' or uses_limits <> 0
            or blocked_nodes > 0)
      `.execute(db);
      return;
    }
    const { rows } = await sql<{ def: string }>`
      select pg_get_functiondef(p.oid) as def from pg_proc p
      where p.proname = 'drover_claim' and p.pronamespace = current_schema()::regnamespace
    `.execute(db);
    const def = rows[0]?.def ?? '';
    const found = def.split(ANCHOR).length - 1;
    if (rows.length !== 1 || found !== 1) {
      throw new Error(
        `0026-bad-nodes-and-retry-delays: expected one drover_claim holding "${ANCHOR}" once, found ${rows.length} function(s) and ${found} occurrence(s)`,
      );
    }
    await sql.raw(def.replace(ANCHOR, `${ANCHOR}\n                  ${BLOCK_TEST}`)).execute(db);
  }
  return { up };
}
