import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/*
 * PostgreSQL only. PL/pgSQL plans each statement of `drover_claim` (0015) through the plan
 * cache, which chose a custom plan, planned afresh, on every run: planning was 22% of the
 * backend's CPU in a claim (perf, 10 claims of 10 tasks per call). The generic plans are
 * the ones the custom plans were: the states are literals (so `jobs_dispatchable` serves
 * the walk whatever the parameters), and every other statement is by key.
 */
export function claimGenericPlansSchema(dialect: DialectName) {
  async function up(db: Kysely<unknown>): Promise<void> {
    if (dialect !== 'postgres') return;
    await sql`alter function drover_claim set plan_cache_mode = force_generic_plan`.execute(db);
  }
  return { up };
}
