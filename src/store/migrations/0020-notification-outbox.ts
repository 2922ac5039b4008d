import type { CreateTableBuilder, Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/*
 * Notification rules and their outbox. A job that ends writes one outbox row per matching
 * rule in the transaction that ends it, so a committed end always has its notifications
 * and a rolled-back one never does. Deliverers claim due rows by pushing next_attempt_at
 * past a lease (on PostgreSQL under FOR UPDATE SKIP LOCKED), so two replicas never send
 * one row at once and a crashed sender's rows come due again.
 *
 * A rule with owner null is global (an admin's): it fires for every job. The events a rule
 * listens to are a JSON array of validated names; rules are few, so the per-owner index is
 * the lookup and the event test runs on the handful of rows it finds.
 */
export function notificationOutboxSchema(dialect: DialectName) {
  const withId = <T extends string>(table: CreateTableBuilder<T, never>) =>
    dialect === 'postgres'
      ? table.addColumn('id', 'bigint', (c) => c.primaryKey().generatedByDefaultAsIdentity())
      : table.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
  async function up(db: Kysely<unknown>): Promise<void> {
    await withId(db.schema.createTable('notification_rules'))
      .addColumn('owner', 'text')
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('events', 'text', (c) => c.notNull())
      .addColumn('channel', 'text', (c) => c.notNull())
      .addColumn('target', 'text', (c) => c.notNull())
      .addColumn('secret', 'text')
      .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('notification_rules_owner')
      .on('notification_rules')
      .column('owner')
      .execute();
    await withId(db.schema.createTable('notification_outbox'))
      .addColumn('rule_id', 'bigint', (c) =>
        c.notNull().references('notification_rules.id').onDelete('cascade'),
      )
      .addColumn('event', 'text', (c) => c.notNull())
      .addColumn('job_id', 'bigint', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      // PENDING until sent (DELIVERED) or out of attempts (FAILED).
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
      .addColumn('last_error', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('delivered_at', 'bigint')
      .execute();
    await db.schema
      .createIndex('notification_outbox_due')
      .on('notification_outbox')
      .columns(['state', 'next_attempt_at'])
      .execute();
    await db.schema
      .createIndex('notification_outbox_rule')
      .on('notification_outbox')
      .column('rule_id')
      .execute();
  }
  return { up };
}
