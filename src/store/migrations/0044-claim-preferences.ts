import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../database.js';
import { CLAIM, DROP_OLD } from './0044-claim.js';

/*
 * Session affinity (docs/scheduling.md#session-affinity): a claim may name the jobs whose
 * sessions its node holds, and their queued tasks (and those of their children, the steps
 * of an OpenJD job) go ahead of other jobs of the same priority; a job of a higher priority
 * still comes first. SQLite needs nothing new (store/claim-preferences.ts reads through the
 * primary key and `jobs_parent`).
 *
 * PostgreSQL: `drover_claim` is defined again whole, with two more arguments: the preferred
 * jobs of every claim of the group as two parallel arrays (claim index, job id). It is the
 * text of 0042 (0039's, with share holders by user or project and the heads of other
 * holders after a full page; here balanced pools' jobs are among the heads too), with the walk's page read by one of two statements: a claim
 * that prefers no job reads the page 0042 read, by the same statement; one that does reads
 * it together with the preferred jobs of at least the page's lowest priority (every job of
 * a higher one is on the page), ordered by priority, then preferred first
 * (store/claim-preferences.ts), and without 0042's heads, which an order by share would put
 * before the preferred. Both run the same walk over what they read (CLAIM_WALK below,
 * written once here and twice in the function). The old function (eleven arguments) is
 * dropped: `create or replace` with a new argument list
 * would leave it beside the new one.
 */
export function claimPreferencesSchema(dialect: DialectName) {
  async function up(db: Kysely<unknown>): Promise<void> {
    if (dialect !== 'postgres') return;
    await sql.raw(DROP_OLD).execute(db);
    await sql.raw(CLAIM).execute(db);
  }
  return { up };
}
