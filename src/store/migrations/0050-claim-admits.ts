import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../database.js';
import { CLAIM, JOB_ADMITS } from './0050-claim.js';

/*
 * PostgreSQL: a claim's looks test a job's node list, machine limit, limits and blocked
 * nodes in `drover_job_admits`, only for a job that has one, and a look of a farm whose
 * pools share nothing is its page of jobs alone (0050-claim.ts says why and what it
 * measured). `drover_claim`'s arguments and result columns are unchanged, so `create or
 * replace` replaces it. SQLite has no such function.
 */
export function claimAdmitsSchema(dialect: DialectName) {
  async function up(db: Kysely<unknown>): Promise<void> {
    if (dialect !== 'postgres') return;
    await sql.raw(JOB_ADMITS).execute(db);
    await sql.raw(CLAIM).execute(db);
  }
  return { up };
}
