import { sql } from 'kysely';
import type { DialectName, Executor } from './database.js';
import type { NotificationOutboxRow } from './schema.js';

/*
 * The outbox of notifications: rows written with the state change they announce, claimed
 * by deliverers, marked when sent. See migration 0020 for the claim's lease.
 */

/**
 * Writes one PENDING row per enabled rule of `owner` (or global) that listens to `event`,
 * in one statement: the only work a job's end costs when no rule matches is this indexed
 * lookup. Event names are validated on the way into rules, so the quoted LIKE is exact.
 */
export async function enqueueNotifications(
  tx: Executor,
  row: { owner: string; event: string; jobId: number; payload: string; now: number },
): Promise<number> {
  const result = await tx
    .insertInto('notification_outbox')
    .columns([
      'rule_id',
      'event',
      'job_id',
      'payload',
      'state',
      'attempts',
      'next_attempt_at',
      'created_at',
    ])
    .expression((eb) =>
      eb
        .selectFrom('notification_rules')
        .select([
          'id',
          sql<string>`cast(${row.event} as text)`.as('event'),
          sql<number>`cast(${row.jobId} as bigint)`.as('job_id'),
          sql<string>`cast(${row.payload} as text)`.as('payload'),
          sql<string>`cast('PENDING' as text)`.as('state'),
          sql<number>`0`.as('attempts'),
          sql<number>`cast(${row.now} as bigint)`.as('next_attempt_at'),
          sql<number>`cast(${row.now} as bigint)`.as('created_at'),
        ])
        .where('enabled', '=', 1)
        .where((w) => w.or([w('owner', '=', row.owner), w('owner', 'is', null)]))
        .where('events', 'like', `%"${row.event}"%`),
    )
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0);
}

/**
 * Claims up to `limit` due rows: each one's attempt count goes up and it is not due again
 * until `leaseUntil`, so another deliverer skips it while this one sends, and takes it
 * again if this one dies. On PostgreSQL, SKIP LOCKED lets replicas claim side by side
 * without waiting on each other's rows; SQLite's writers take turns anyway.
 */
export async function claimDueNotifications(
  db: Executor,
  dialect: DialectName,
  now: number,
  leaseUntil: number,
  limit: number,
): Promise<NotificationOutboxRow[]> {
  return db
    .updateTable('notification_outbox')
    .set((eb) => ({ attempts: eb('attempts', '+', 1), next_attempt_at: leaseUntil }))
    .where('id', 'in', (eb) => {
      const due = eb
        .selectFrom('notification_outbox')
        .select('id')
        .where('state', '=', 'PENDING')
        .where('next_attempt_at', '<=', now)
        .orderBy('next_attempt_at')
        .limit(limit);
      return dialect === 'postgres' ? due.forUpdate().skipLocked() : due;
    })
    .returningAll()
    .execute();
}

/**
 * Ends a claimed row as sent, or as failed for good. `attempts` fences the claim: a row
 * that another deliverer claimed since (this one outlived its lease) is left to it.
 */
export async function settleNotification(
  tx: Executor,
  id: number,
  attempts: number,
  outcome: { state: 'DELIVERED' | 'FAILED'; at: number; error?: string },
): Promise<boolean> {
  const result = await tx
    .updateTable('notification_outbox')
    .set({
      state: outcome.state,
      delivered_at: outcome.state === 'DELIVERED' ? outcome.at : null,
      last_error: outcome.error ?? null,
    })
    .where('id', '=', id)
    .where('attempts', '=', attempts)
    .where('state', '=', 'PENDING')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** A failed attempt with tries left: due again at `nextAttemptAt`. */
export async function rescheduleNotification(
  tx: Executor,
  id: number,
  attempts: number,
  nextAttemptAt: number,
  error: string,
): Promise<void> {
  await tx
    .updateTable('notification_outbox')
    .set({ next_attempt_at: nextAttemptAt, last_error: error })
    .where('id', '=', id)
    .where('attempts', '=', attempts)
    .where('state', '=', 'PENDING')
    .execute();
}

/** A rule's most recent deliveries, newest first. */
export async function notificationsOfRule(
  db: Executor,
  ruleId: number,
  limit: number,
): Promise<NotificationOutboxRow[]> {
  return db
    .selectFrom('notification_outbox')
    .selectAll()
    .where('rule_id', '=', ruleId)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
}
