import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../database.js';
import { CLAIM, HOST_MATCH, RETRY_OPEN } from './0045-claim.js';

/*
 * Host capabilities (docs/openjd.md#host-requirements): `nodes.host_caps` holds what a
 * worker reported of itself (attributes and amounts, normalized JSON; null: nothing, as an
 * older worker registers), `jobs.req_host` what a job requires of a node (null: nothing).
 * Every claim path tests `j.req_host is null or <match>` right after the resource tests, so
 * a job without requirements costs one null test on the row the claim already reads, and a
 * node never gets a task whose requirement it does not meet.
 *
 * SQLite: the match is the user function `drover_host_match` that store/database.ts
 * registers on each connection (domain/host-capabilities.ts), so nothing here.
 * PostgreSQL: `drover_host_match` in SQL, `drover_retry_open` (0039) again with the test,
 * and `drover_claim` again whole, 0044's text with the test (0045-claim.ts); its arguments
 * are unchanged, so `create or replace` replaces it.
 */
export function hostCapabilitiesSchema(dialect: DialectName) {
  async function up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('nodes').addColumn('host_caps', 'text').execute();
    await db.schema.alterTable('jobs').addColumn('req_host', 'text').execute();
    if (dialect !== 'postgres') return;
    await sql.raw(HOST_MATCH).execute(db);
    await sql.raw(RETRY_OPEN).execute(db);
    await sql.raw(CLAIM).execute(db);
  }
  return { up };
}
