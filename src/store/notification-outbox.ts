import { sql } from 'kysely';
import type { DialectName, Executor } from './database.js';
import type { JobRow, NotificationOutboxRow, NotificationRuleRow } from './schema.js';

/*
 * The outbox of notifications: rows written with the state change they announce, claimed
 * by deliverers, marked when sent. See migration 0020 for the claim's lease.
 */

/** What an event writes to the outbox, for each enabled rule that hears it. */
export interface OutboxEvent {
  /** The job's owner: rules of that user hear it, and global ones. Null: global rules only. */
  owner: string | null;
  event: string;
  jobId: number | null;
  taskId?: number;
  nodeId?: number;
  payload: string;
  now: number;
  /** task.failed: only rules whose threshold is this count hear it. */
  taskFailures?: number;
}

/**
 * Writes one PENDING row per enabled rule that hears the event, in one statement: the
 * only work an event costs when no rule matches is this indexed lookup. A rule on one job
 * hears that job only. Event names are validated on the way into rules, so the quoted
 * LIKE is exact.
 */
export async function enqueueNotifications(tx: Executor, row: OutboxEvent): Promise<number> {
  const result = await tx
    .insertInto('notification_outbox')
    .columns([
      'rule_id',
      'event',
      'job_id',
      'task_id',
      'node_id',
      'payload',
      'state',
      'attempts',
      'next_attempt_at',
      'created_at',
    ])
    .expression((eb) => {
      let rules = eb
        .selectFrom('notification_rules')
        .select([
          'id',
          sql<string>`cast(${row.event} as text)`.as('event'),
          sql<number | null>`cast(${row.jobId} as bigint)`.as('job_id'),
          sql<number | null>`cast(${row.taskId ?? null} as bigint)`.as('task_id'),
          sql<number | null>`cast(${row.nodeId ?? null} as bigint)`.as('node_id'),
          sql<string>`cast(${row.payload} as text)`.as('payload'),
          sql<string>`cast('PENDING' as text)`.as('state'),
          sql<number>`0`.as('attempts'),
          sql<number>`cast(${row.now} as bigint)`.as('next_attempt_at'),
          sql<number>`cast(${row.now} as bigint)`.as('created_at'),
        ])
        .where('enabled', '=', 1)
        .where('events', 'like', `%"${row.event}"%`);
      const owner = row.owner;
      rules =
        owner === null
          ? rules.where('owner', 'is', null)
          : rules.where((w) => w.or([w('owner', '=', owner), w('owner', 'is', null)]));
      const jobId = row.jobId;
      rules =
        jobId === null
          ? rules.where('job_id', 'is', null)
          : rules.where((w) => w.or([w('job_id', 'is', null), w('job_id', '=', jobId)]));
      if (row.taskFailures !== undefined) {
        rules = rules.where('task_failures', '=', row.taskFailures);
      }
      return rules;
    })
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0);
}

/** Enabled rules that listen to `event`, the farm's few: the scans walk them one by one. */
export async function rulesHearing(db: Executor, event: string): Promise<NotificationRuleRow[]> {
  return db
    .selectFrom('notification_rules')
    .selectAll()
    .where('enabled', '=', 1)
    .where('events', 'like', `%"${event}"%`)
    .orderBy('id')
    .execute();
}

/** The key that makes a job's queueing announce its wait once per rule. */
export const queueWaitKey = (jobId: number, queuedAt: number): string =>
  `queue-wait:${jobId}:${queuedAt}`;

/**
 * Live QUEUED jobs, queued at or before `cutoff`, that the rule watches and has not yet
 * announced for this queueing (its key not in the outbox), oldest id first.
 */
export async function jobsWaitingUnannounced(
  db: Executor,
  rule: Pick<NotificationRuleRow, 'id' | 'owner' | 'job_id'>,
  cutoff: number,
  limit: number,
): Promise<JobRow[]> {
  let query = db
    .selectFrom('jobs as j')
    .selectAll('j')
    .where('j.state', '=', 'QUEUED')
    .where('j.deleted_at', 'is', null)
    .where('j.queued_at', 'is not', null)
    .where('j.queued_at', '<=', cutoff)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('notification_outbox as o')
            .select('o.id')
            .where('o.rule_id', '=', rule.id)
            .where(
              'o.dedupe_key',
              '=',
              sql<string>`'queue-wait:' || cast(j.id as text) || ':' || cast(j.queued_at as text)`,
            ),
        ),
      ),
    );
  if (rule.owner !== null) query = query.where('j.user_name', '=', rule.owner);
  if (rule.job_id !== null && rule.job_id !== undefined) {
    query = query.where('j.id', '=', rule.job_id);
  }
  return query.orderBy('j.id').limit(limit).execute();
}

/**
 * Writes rows a scan found. The unique (rule_id, dedupe_key) index refuses a row another
 * replica's scan wrote first; ON CONFLICT DO NOTHING makes that a no-op, not an error.
 */
export async function insertKeyedNotifications(
  tx: Executor,
  rows: Array<{
    ruleId: number;
    event: string;
    jobId: number;
    dedupeKey: string;
    payload: string;
    now: number;
  }>,
): Promise<number> {
  if (rows.length === 0) return 0;
  const result = await tx
    .insertInto('notification_outbox')
    .values(
      rows.map((r) => ({
        rule_id: r.ruleId,
        event: r.event,
        job_id: r.jobId,
        dedupe_key: r.dedupeKey,
        payload: r.payload,
        state: 'PENDING' as const,
        attempts: 0,
        next_attempt_at: r.now,
        created_at: r.now,
        last_error: null,
        delivered_at: null,
      })),
    )
    .onConflict((oc) => oc.doNothing())
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
  before?: number,
): Promise<NotificationOutboxRow[]> {
  let query = db.selectFrom('notification_outbox').selectAll().where('rule_id', '=', ruleId);
  if (before !== undefined) query = query.where('id', '<', before);
  return query.orderBy('id', 'desc').limit(limit).execute();
}

/** Notifications waiting to be sent (PENDING) and given up on (FAILED), by the due index. */
export async function countUnsentNotifications(
  db: Executor,
): Promise<{ PENDING: number; FAILED: number }> {
  const rows = await db
    .selectFrom('notification_outbox')
    .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
    .where('state', 'in', ['PENDING', 'FAILED'])
    .groupBy('state')
    .execute();
  const counts = { PENDING: 0, FAILED: 0 };
  for (const r of rows) counts[r.state as 'PENDING' | 'FAILED'] = Number(r.n);
  return counts;
}
