import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../database.js';
import { CLAIM, HOLDER_RUNNING } from './0042-claim.js';

/*
 * Project shares, and retries bound to a node found fast (docs/scheduling.md).
 *
 * `jobs.project` names the project (OpenCue's show) a job belongs to; '' for none.
 * `pools.share_by` says whose shares a weighted pool weighs: `user` (as before) or `project`.
 * A pool shared by project keeps its shares in `pool_shares` as a user pool does, the holder's
 * name in `user_name` (a project's name there): the claim picks the job's project or user as
 * its holder by the pool's share_by and reads the same table. `jobs_pool_project` serves the
 * sum of a project's running tasks in a pool, as `jobs_pool_user` (0037) serves a user's.
 *
 * `tasks_retry_node` finds the queued retries bound to a node (0039) when that node goes away
 * (disabled, offline, quarantined, moved out of pools), so that as many waiting nodes are
 * woken at once instead of at their next poll (engine/tasks/unbound-retries.ts).
 *
 * PostgreSQL: `drover_claim` is defined again whole (0042-claim.ts): 0039's text, with the
 * share holder of a weighted pool's job (its user, or its project when the pool is shared by
 * project) in place of its user in the page's order and the burst count, through
 * `drover_holder_running`; and a full page holding a weighted pool's job joined by the first
 * job of each other share holder among the next 32 (docs/scheduling.md, "How the walk does
 * it"). A job of a priority or balanced pool is walked as before.
 */
export function projectSharesSchema(dialect: DialectName) {
  async function up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .alterTable('jobs')
      .addColumn('project', 'text', (c) => c.notNull().defaultTo(''))
      .execute();
    await db.schema
      .alterTable('pools')
      .addColumn('share_by', 'text', (c) => c.notNull().defaultTo('user'))
      .execute();
    await sql`create index jobs_pool_project on jobs (pool, project)
      where deleted_at is null`.execute(db);
    await sql`create index tasks_retry_node on tasks (retry_node_id)
      where retry_node_id is not null`.execute(db);
    if (dialect !== 'postgres') return;
    await sql.raw(HOLDER_RUNNING).execute(db);
    await sql.raw(CLAIM).execute(db);
  }
  return { up };
}
