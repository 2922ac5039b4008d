import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/*
 * Two changes to the claim's walk of the queue, one per database.
 *
 * PostgreSQL: PL/pgSQL plans each statement of `drover_claim` (0015) through the plan cache,
 * which chose a custom plan, planned afresh, on every run: planning was 22% of the backend's
 * CPU in a claim (perf, 10 claims of 10 tasks per call). The generic plans are the ones the
 * custom plans were: the states are literals (so `jobs_dispatchable` serves the walk
 * whatever the parameters), and every other statement is by key.
 *
 * SQLite: the claims of one transaction share their first look at the queue where no job
 * that can hand out work has a machine limit or a node list (engine/dispatcher.ts,
 * FirstLooks); this partial index answers "is there one?" without walking the queue.
 */
export function claimWalkSchema(dialect: DialectName) {
  async function up(db: Kysely<unknown>): Promise<void> {
    if (dialect === 'postgres') {
      await sql`alter function drover_claim set plan_cache_mode = force_generic_plan`.execute(db);
      return;
    }
    await sql`
      create index jobs_node_specific on jobs (id)
      where state in ('QUEUED', 'RUNNING') and deleted_at is null
        and (machine_limit > 0 or node_list_mode <> 'NONE')
    `.execute(db);
  }
  return { up };
}
