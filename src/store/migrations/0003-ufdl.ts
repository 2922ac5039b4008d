import type { Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/*
 * What UFDL's face needs that the earlier schemas lack: a place for server-wide secrets.
 * UFDL's clients log in for JSON Web Tokens signed with HMAC-SHA256; the signing key must be
 * the same on every replica and survive restarts, so it lives in the database, not in a
 * process or a data directory that another replica cannot read.
 */
export function ufdlSchema(_dialect: DialectName) {
  async function up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('server_secrets')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('value', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
  }
  return { up };
}
