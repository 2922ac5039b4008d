import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../database.js';
import { CLAIM } from './0047-claim.js';

/*
 * PostgreSQL: `drover_claim` answers each job's row once per group of claims, not once per
 * claim that took from it (0047-claim.ts says why and what it measured). Its arguments and
 * result columns are unchanged, so `create or replace` replaces it; what changed is what
 * its JSON holds, which store/claim-groups.ts reads. SQLite has no such function.
 */
export function claimJobRowsSchema(dialect: DialectName) {
  async function up(db: Kysely<unknown>): Promise<void> {
    if (dialect !== 'postgres') return;
    await sql.raw(CLAIM).execute(db);
  }
  return { up };
}
