import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/*
 * The notification triggers beyond a job's end (issue 17): a task failed N times, a node
 * lost, a job queued longer than X, and rules on one job (Deadline's NotificationEmails).
 *
 * - A rule keeps its thresholds: `task_failures` (N) and `queue_wait_s` (X), null when it
 *   does not listen to that event, and `job_id` when it watches one job only (deleted with
 *   the job).
 * - An outbox row of a node event has no job, so `job_id` becomes nullable and the row
 *   names its node or task instead.
 * - `dedupe_key` makes an event that a periodic scan finds (a queue wait) fire once per
 *   rule however many replicas scan: the unique index refuses the second insert, which
 *   each scan writes as ON CONFLICT DO NOTHING. Rows of other events leave it null, and
 *   nulls never collide.
 *
 * SQLite cannot drop a NOT NULL, so there the outbox is rebuilt; it holds notifications
 * only, none of which another table refers to.
 */
export function notificationTriggersSchema(dialect: DialectName) {
  async function up(db: Kysely<unknown>): Promise<void> {
    const rules = db.schema.alterTable('notification_rules');
    await rules.addColumn('task_failures', 'integer').execute();
    await rules.addColumn('queue_wait_s', 'integer').execute();
    await rules
      .addColumn('job_id', 'bigint', (c) => c.references('jobs.id').onDelete('cascade'))
      .execute();
    await db.schema
      .createIndex('notification_rules_job')
      .on('notification_rules')
      .column('job_id')
      .where(sql.ref('job_id'), 'is not', null)
      .execute();

    if (dialect === 'postgres') {
      await sql`alter table notification_outbox alter column job_id drop not null`.execute(db);
      const outbox = db.schema.alterTable('notification_outbox');
      await outbox.addColumn('task_id', 'bigint').execute();
      await outbox.addColumn('node_id', 'bigint').execute();
      await outbox.addColumn('dedupe_key', 'text').execute();
    } else {
      await rebuildSqliteOutbox(db);
    }
    await db.schema
      .createIndex('notification_outbox_dedupe')
      .on('notification_outbox')
      .columns(['rule_id', 'dedupe_key'])
      .unique()
      .execute();
  }
  return { up };
}

async function rebuildSqliteOutbox(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('notification_outbox_new')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('rule_id', 'bigint', (c) =>
      c.notNull().references('notification_rules.id').onDelete('cascade'),
    )
    .addColumn('event', 'text', (c) => c.notNull())
    .addColumn('job_id', 'bigint')
    .addColumn('task_id', 'bigint')
    .addColumn('node_id', 'bigint')
    .addColumn('dedupe_key', 'text')
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('delivered_at', 'bigint')
    .execute();
  await sql`insert into notification_outbox_new
    (id, rule_id, event, job_id, payload, state, attempts, next_attempt_at, last_error,
     created_at, delivered_at)
    select id, rule_id, event, job_id, payload, state, attempts, next_attempt_at, last_error,
     created_at, delivered_at from notification_outbox`.execute(db);
  await db.schema.dropTable('notification_outbox').execute();
  await sql`alter table notification_outbox_new rename to notification_outbox`.execute(db);
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
