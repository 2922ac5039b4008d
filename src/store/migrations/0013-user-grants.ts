import type { CreateTableBuilder, Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/*
 * Grants: a user made manager of a pool (may change every job in it) or a wrangler (may
 * change every job), as farm teams work. A wrangler's row has pool '' rather than null, so
 * that the unique index refuses a second identical grant on both databases (PostgreSQL
 * treats nulls as distinct in a unique index).
 */
export function userGrantsSchema(dialect: DialectName) {
  const withId = <T extends string>(table: CreateTableBuilder<T, never>) =>
    dialect === 'postgres'
      ? table.addColumn('id', 'bigint', (c) => c.primaryKey().generatedByDefaultAsIdentity())
      : table.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
  async function up(db: Kysely<unknown>): Promise<void> {
    await withId(db.schema.createTable('user_grants'))
      .addColumn('user_id', 'bigint', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('pool', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('user_grants_unique')
      .on('user_grants')
      .columns(['user_id', 'kind', 'pool'])
      .unique()
      .execute();
  }
  return { up };
}
