import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../database.js';
import { CLAIM } from './0048-claim.js';

/*
 * PostgreSQL: `drover_claim` opens a claim's look with fair share's heads only where a pool
 * shares (0048-claim.ts says why and what it measured). Its arguments and result columns are
 * unchanged, so `create or replace` replaces it. SQLite has no such function.
 */
export function claimPlainLooksSchema(dialect: DialectName) {
  async function up(db: Kysely<unknown>): Promise<void> {
    if (dialect !== 'postgres') return;
    await sql.raw(CLAIM).execute(db);
  }
  return { up };
}
