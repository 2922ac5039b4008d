import type { Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/*
 * Nodes are bound to the account that registered them, so one node's credentials cannot
 * act for another node (a null account: registered before binding; the first account to
 * act as it takes it). Tokens may expire. Same columns on both databases.
 */
export function nodeAccountsTokenExpirySchema(_dialect: DialectName) {
  async function up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('nodes').addColumn('account_id', 'bigint').execute();
    await db.schema.alterTable('api_tokens').addColumn('expires_at', 'bigint').execute();
  }
  return { up };
}
