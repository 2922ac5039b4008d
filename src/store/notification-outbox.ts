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
 * Writes one PENDING row per enabled rule that hears each event, all in one statement: the
 * only work events cost when no rule matches is this lookup over the rules. A rule on one
 * job hears that job only. Event names are validated on the way into rules, so the quoted
 * LIKE is exact. Answers the job of each row written (null: an event of no job).
 *
 * Several events are one statement because a write-lane transaction that ends many jobs (of
 * one task each) wrote one per job, each a round trip on PostgreSQL (changeJobStates).
 */
export async function enqueueNotifications(
  tx: Executor,
  rows: readonly OutboxEvent[],
): Promise<(number | null)[]> {
  if (rows.length === 0) return [];
  // VALUES columns are column1, column2, … on both databases; the casts type the parameters.
  const values = sql.join(
    rows.map(
      (row) => sql`(cast(${row.event} as text), cast(${row.owner} as text),
        cast(${row.jobId} as bigint), cast(${row.taskId ?? null} as bigint),
        cast(${row.nodeId ?? null} as bigint), cast(${row.payload} as text),
        cast(${row.now} as bigint), cast(${row.taskFailures ?? null} as integer))`,
    ),
  );
  const { rows: written } = await sql<{ job_id: number | string | null }>`
    insert into notification_outbox (rule_id, event, job_id, task_id, node_id, payload, state,
      attempts, next_attempt_at, created_at)
    select r.id, v.column1, v.column3, v.column4, v.column5, v.column6, 'PENDING', 0,
      v.column7, v.column7
    from (values ${values}) as v
    join notification_rules r on r.enabled = 1 and r.events like '%"' || v.column1 || '"%'
    where (r.owner is null or r.owner = v.column2)
      and (r.job_id is null or r.job_id = v.column3)
      and (v.column8 is null or r.task_failures = v.column8)
    returning job_id`.execute(tx);
  return written.map((r) => (r.job_id === null ? null : Number(r.job_id)));
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
