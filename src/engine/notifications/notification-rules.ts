import { randomBytes } from 'node:crypto';
import { DroverError, invalid, notFound } from '../../domain/errors.js';
import {
  checkEmailAddress,
  checkEvents,
  checkThresholds,
  checkWebhookTarget,
  FARM_EVENTS,
  MAX_RULES_PER_JOB,
  MAX_RULES_PER_OWNER,
  type NotificationChannel,
  type NotificationEvent,
} from '../../domain/notifications.js';
import { findJob } from '../../store/jobs.js';
import { notificationsOfRule } from '../../store/notification-outbox.js';
import {
  countNotificationRules,
  deleteNotificationRule,
  findNotificationRule,
  insertNotificationRule,
  listNotificationRules,
  updateNotificationRule,
} from '../../store/notification-rules.js';
import type { NotificationRuleRow } from '../../store/schema.js';
import type { Principal } from '../accounts/accounts.js';
import { inTransaction, type EngineContext } from '../context.js';

/*
 * Notification rules as people manage them: a user keeps rules for their own jobs, an
 * admin keeps global rules (every job) and may manage anyone's.
 */

export interface NotificationRule {
  id: number;
  /** The user whose jobs it watches; null for a global rule. */
  owner: string | null;
  name: string;
  events: NotificationEvent[];
  channel: NotificationChannel;
  target: string;
  enabled: boolean;
  /** task.failed: the count of a task's failures that fires it. */
  taskFailures: number | null;
  /** job.queue-wait: the seconds a job may wait QUEUED before it fires. */
  queueWaitSeconds: number | null;
  /** The one job it watches; null: every job of its owner (or every job, global). */
  jobId: number | null;
  createdAt: number;
  createdBy: string;
}

export interface RuleInput {
  name?: string;
  events: string[];
  channel: NotificationChannel;
  target: string;
  /** The webhook's HMAC key; one is made when none is given. */
  secret?: string;
  /** An admin's rule for every job (only admins may). */
  global?: boolean;
  enabled?: boolean;
  taskFailures?: number;
  queueWaitSeconds?: number;
  /** Watch this one job only (its owner's rule; Deadline's NotificationEmails). */
  jobId?: number;
}

export type RulePatch = Partial<Omit<RuleInput, 'channel' | 'global' | 'jobId'>>;

export interface RuleOptions {
  /** Whether an SMTP server is configured: email rules are refused without one. */
  emailConfigured: boolean;
  /** The webhook host allow-list; undefined: any host. */
  webhookHosts?: readonly string[] | undefined;
}

const toRule = (row: NotificationRuleRow): NotificationRule => ({
  id: row.id,
  owner: row.owner,
  name: row.name,
  events: JSON.parse(row.events) as NotificationEvent[],
  channel: row.channel,
  target: row.target,
  enabled: row.enabled === 1,
  taskFailures: row.task_failures ?? null,
  queueWaitSeconds: row.queue_wait_s ?? null,
  jobId: row.job_id ?? null,
  createdAt: row.created_at,
  createdBy: row.created_by,
});

function checkTarget(channel: NotificationChannel, target: string, options: RuleOptions): string {
  if (channel === 'webhook') return checkWebhookTarget(target, options.webhookHosts);
  if (!options.emailConfigured) {
    throw invalid(
      'email rules need an SMTP server: start the server with --smtp-url (DROVER_SMTP_URL), or use a webhook',
    );
  }
  return checkEmailAddress(target);
}

const newSecret = (): string => randomBytes(24).toString('hex');

/** Node events concern the whole farm: only a global rule (an admin's) hears them. */
function checkFarmEvents(events: readonly NotificationEvent[], global: boolean): void {
  const farm = events.filter((e) => FARM_EVENTS.includes(e));
  if (farm.length > 0 && !global) {
    throw invalid(
      `${farm.join(', ')} concerns the whole farm: only a global rule (an admin's, "global": true) hears it`,
    );
  }
}

/**
 * A rule on one job belongs to the job's owner, so it fires as their rules do. A user may
 * watch only their own jobs; an admin any job.
 */
async function ownerOfWatchedJob(
  ctx: EngineContext,
  caller: Principal,
  input: RuleInput,
): Promise<string> {
  if (input.global) throw invalid('a rule on one job ("jobId") cannot also be global');
  const job = await findJob(ctx.db, input.jobId!);
  if (!job || job.deleted_at !== null) throw notFound('job', input.jobId!);
  if (caller.role !== 'admin' && job.user_name !== caller.name) {
    throw new DroverError(
      'FORBIDDEN',
      `job ${job.id} belongs to another user; you may watch only your own jobs`,
    );
  }
  return job.user_name;
}

/** Creates a rule; the answer carries the webhook's secret, the only time it is shown. */
export async function createNotificationRule(
  ctx: EngineContext,
  caller: Principal,
  input: RuleInput,
  options: RuleOptions,
): Promise<NotificationRule & { secret: string | null }> {
  if (input.global && caller.role !== 'admin') {
    throw new DroverError(
      'FORBIDDEN',
      'only an admin may create a global rule; leave out "global" for a rule on your own jobs',
    );
  }
  const events = checkEvents(input.events);
  checkFarmEvents(events, input.global === true);
  const thresholds = checkThresholds(events, input);
  const target = checkTarget(input.channel, input.target, options);
  const secret = input.channel === 'webhook' ? (input.secret ?? newSecret()) : null;
  let owner = input.global ? null : caller.name;
  if (input.jobId !== undefined) owner = await ownerOfWatchedJob(ctx, caller, input);
  const id = await inTransaction(ctx, async (tx) => {
    // A rule on one job goes with the job: rules on a job have their own, smaller cap.
    const cap = input.jobId === undefined ? MAX_RULES_PER_OWNER : MAX_RULES_PER_JOB;
    if ((await countNotificationRules(tx, owner, input.jobId)) >= cap) {
      throw new DroverError(
        'CONFLICT',
        input.jobId === undefined
          ? `${owner === null ? 'there are' : `${owner} has`} ${cap} rules already, the most allowed; delete one first`
          : `job ${input.jobId} has ${cap} rules already, the most allowed; delete one first`,
      );
    }
    return insertNotificationRule(tx, {
      owner,
      name: input.name ?? `${input.channel} on ${events.join(', ')}`,
      events: JSON.stringify(events),
      channel: input.channel,
      target,
      secret,
      enabled: input.enabled === false ? 0 : 1,
      task_failures: thresholds.taskFailures,
      queue_wait_s: thresholds.queueWaitSeconds,
      job_id: input.jobId ?? null,
      created_at: ctx.clock(),
      created_by: caller.name,
    });
  });
  return { ...toRule((await findNotificationRule(ctx.db, id))!), secret };
}

/** The caller's rules; an admin sees every rule. */
export async function notificationRulesOf(
  ctx: EngineContext,
  caller: Principal,
): Promise<NotificationRule[]> {
  const rows = await listNotificationRules(
    ctx.db,
    caller.role === 'admin' ? undefined : caller.name,
  );
  return rows.map(toRule);
}

async function ruleFor(ctx: EngineContext, caller: Principal, id: number) {
  const row = await findNotificationRule(ctx.db, id);
  if (!row) throw notFound('notification rule', id);
  if (caller.role !== 'admin' && row.owner !== caller.name) {
    throw new DroverError(
      'FORBIDDEN',
      row.owner === null
        ? `notification rule ${id} is global; only an admin may manage it`
        : `notification rule ${id} belongs to another user; you may manage only your own`,
    );
  }
  return row;
}

export async function notificationRule(
  ctx: EngineContext,
  caller: Principal,
  id: number,
): Promise<NotificationRule> {
  return toRule(await ruleFor(ctx, caller, id));
}

export async function updateNotificationRuleOf(
  ctx: EngineContext,
  caller: Principal,
  id: number,
  patch: RulePatch,
  options: RuleOptions,
): Promise<NotificationRule> {
  const row = await ruleFor(ctx, caller, id);
  if (patch.secret !== undefined && row.channel !== 'webhook') {
    throw invalid('only a webhook rule has a secret');
  }
  const events =
    patch.events !== undefined
      ? checkEvents(patch.events)
      : (JSON.parse(row.events) as NotificationEvent[]);
  checkFarmEvents(events, row.owner === null);
  // Thresholds follow the events: one the new events do not use is dropped with them.
  const thresholds = checkThresholds(events, {
    taskFailures:
      patch.taskFailures ?? (events.includes('task.failed') ? row.task_failures : undefined),
    queueWaitSeconds:
      patch.queueWaitSeconds ?? (events.includes('job.queue-wait') ? row.queue_wait_s : undefined),
  });
  await updateNotificationRule(ctx.db, id, {
    ...(patch.name !== undefined ? { name: patch.name } : {}),
    events: JSON.stringify(events),
    task_failures: thresholds.taskFailures,
    queue_wait_s: thresholds.queueWaitSeconds,
    ...(patch.target !== undefined
      ? { target: checkTarget(row.channel, patch.target, options) }
      : {}),
    ...(patch.secret !== undefined ? { secret: patch.secret } : {}),
    ...(patch.enabled !== undefined ? { enabled: patch.enabled ? 1 : 0 } : {}),
  });
  return toRule((await findNotificationRule(ctx.db, id))!);
}

export async function deleteNotificationRuleOf(
  ctx: EngineContext,
  caller: Principal,
  id: number,
): Promise<void> {
  await ruleFor(ctx, caller, id);
  await deleteNotificationRule(ctx.db, id);
}

export interface Delivery {
  id: number;
  event: string;
  jobId: number | null;
  nodeId: number | null;
  taskId: number | null;
  state: 'PENDING' | 'DELIVERED' | 'FAILED';
  attempts: number;
  nextAttemptAt: number | null;
  lastError: string | null;
  createdAt: number;
  deliveredAt: number | null;
}

/** The rule's most recent notifications and how their delivery went, newest first. */
export async function deliveriesOfRule(
  ctx: EngineContext,
  caller: Principal,
  id: number,
  limit: number,
  before?: number,
): Promise<Delivery[]> {
  await ruleFor(ctx, caller, id);
  const rows = await notificationsOfRule(ctx.db, id, limit, before);
  return rows.map((r) => ({
    id: r.id,
    event: r.event,
    jobId: r.job_id,
    nodeId: r.node_id ?? null,
    taskId: r.task_id ?? null,
    state: r.state,
    attempts: r.attempts,
    nextAttemptAt: r.state === 'PENDING' ? r.next_attempt_at : null,
    lastError: r.last_error,
    createdAt: r.created_at,
    deliveredAt: r.delivered_at,
  }));
}
