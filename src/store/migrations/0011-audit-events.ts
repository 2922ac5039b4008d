import type { CreateTableBuilder, Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/*
 * The audit trail: one row per state-changing request (who, what, when, from which face and
 * address, and the answer's status), found by job for the job's page.
 */
export function auditEventsSchema(dialect: DialectName) {
  const withId = <T extends string>(table: CreateTableBuilder<T, never>) =>
    dialect === 'postgres'
      ? table.addColumn('id', 'bigint', (c) => c.primaryKey().generatedByDefaultAsIdentity())
      : table.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
  async function up(db: Kysely<unknown>): Promise<void> {
    await withId(db.schema.createTable('audit_events'))
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('actor', 'text', (c) => c.notNull())
      .addColumn('role', 'text', (c) => c.notNull())
      .addColumn('face', 'text', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('method', 'text', (c) => c.notNull())
      .addColumn('path', 'text', (c) => c.notNull())
      .addColumn('job_id', 'bigint')
      .addColumn('address', 'text', (c) => c.notNull())
      .addColumn('status', 'integer', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('audit_events_job')
      .on('audit_events')
      .columns(['job_id', 'id'])
      .execute();
  }
  return { up };
}
