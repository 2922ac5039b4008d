import { invalid } from './errors.js';

/*
 * Notification rules: which events a person wants to hear about, and where to send them.
 * Pure checks and arithmetic; the engine stores and delivers.
 */

export const NOTIFICATION_EVENTS = [
  'job.completed',
  'job.failed',
  'job.canceled',
  /** A task's failures reached the rule's `taskFailures`. */
  'task.failed',
  /** A job has been QUEUED longer than the rule's `queueWaitSeconds` without starting. */
  'job.queue-wait',
  /** A node stopped reporting and was marked OFFLINE; global rules only. */
  'node.lost',
  /** A node was quarantined for its failure rate (docs/scheduling.md); global rules only. */
  'node.quarantined',
] as const;
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];

/** Events about the farm rather than a user's jobs: only global (admin) rules hear them. */
export const FARM_EVENTS: readonly NotificationEvent[] = ['node.lost', 'node.quarantined'];

export const MAX_TASK_FAILURES = 100;
export const MAX_QUEUE_WAIT_S = 30 * 24 * 3600;

export const NOTIFICATION_CHANNELS = ['webhook', 'email'] as const;
export type NotificationChannel = (typeof NOTIFICATION_CHANNELS)[number];

/** The job state whose arrival each event announces. */
export const EVENT_OF_JOB_STATE: Readonly<Record<string, NotificationEvent>> = {
  COMPLETED: 'job.completed',
  FAILED: 'job.failed',
  CANCELED: 'job.canceled',
};

export const MAX_RULES_PER_OWNER = 50;
/** Rules on one job (Deadline's NotificationEmails takes 10 addresses). */
export const MAX_RULES_PER_JOB = 10;
export const MAX_TARGET_LENGTH = 2000;
export const MAX_RULE_NAME_LENGTH = 100;

/** The header carrying `sha256=<hex HMAC-SHA256 of the raw body, keyed by the rule's secret>`. */
export const SIGNATURE_HEADER = 'X-Drover-Signature';

/** What a webhook receives (and what an email says, in words). */
export interface NotificationPayload {
  /** The outbox row's id: the same on every retry, so a receiver can drop a repeat. */
  deliveryId?: number;
  event: NotificationEvent;
  at: string;
  /** task.failed: the task and how often it has failed. */
  task?: {
    id: number;
    index: number;
    frames: string;
    failures: number;
    state: string;
    errorName: string | null;
    errorMessage: string | null;
  };
  /** job.queue-wait: how long the job has waited, in seconds, and the rule's limit. */
  queueWait?: { waitedSeconds: number; limitSeconds: number; queuedAt: string };
  /** node.lost and node.quarantined: the node, when it was last heard from, and why it was quarantined. */
  node?: {
    id: number;
    name: string;
    hostname: string;
    lastHeartbeatAt: string | null;
    quarantineReason?: string;
  };
  /** Absent for a node's event. */
  job?: {
    id: number;
    name: string;
    state: string;
    user: string;
    pool: string;
    submittedAt: string | null;
    startedAt: string | null;
    endedAt: string | null;
    errorName: string | null;
    errorMessage: string | null;
  };
}

/** A webhook must be http(s) with a host; anything else is refused with the reason. */
export function checkWebhookUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid(
      `target "${raw.slice(0, 100)}" is not a URL; give e.g. https://hooks.example.com/drover`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalid(`a webhook target must be http:// or https://, got ${url.protocol}`);
  }
  return url.toString();
}

/**
 * Whether a webhook URL's host is on the operator's allow-list: a pattern is a host name
 * (exactly that host) or `*.example.com` (any host under example.com, not example.com
 * itself). Undefined: no list, every host may be called.
 */
export function webhookHostAllowed(url: string, allowed: readonly string[] | undefined): boolean {
  if (allowed === undefined) return true;
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase();
  } catch {
    return false;
  }
  return allowed.some((raw) => {
    const pattern = raw.toLowerCase();
    return pattern.startsWith('*.') ? host.endsWith(pattern.slice(1)) : host === pattern;
  });
}

/** A webhook URL, checked, and refused when its host is not on the allow-list. */
export function checkWebhookTarget(raw: string, allowed: readonly string[] | undefined): string {
  const url = checkWebhookUrl(raw);
  if (!webhookHostAllowed(url, allowed)) {
    throw invalid(
      `webhook host ${new URL(url).hostname} is not on this server's allow-list (${allowed!.join(', ')}); ask an operator to add it to --webhook-hosts`,
    );
  }
  return url;
}

// Deliberately plain: one @, no spaces, a dot-free host is allowed (localhost mail sinks).
const EMAIL = /^[^\s@]+@[^\s@]+$/;

export function checkEmailAddress(raw: string): string {
  if (!EMAIL.test(raw))
    throw invalid(
      `target "${raw.slice(0, 100)}" is not an email address; give e.g. alice@example.com`,
    );
  return raw;
}

/**
 * The thresholds a rule's events need, checked against them: task.failed needs
 * `taskFailures`, job.queue-wait needs `queueWaitSeconds`, and neither is taken alone.
 */
export function checkThresholds(
  events: readonly NotificationEvent[],
  thresholds: { taskFailures?: number | null; queueWaitSeconds?: number | null },
): { taskFailures: number | null; queueWaitSeconds: number | null } {
  const pairs = [
    ['task.failed', 'taskFailures', thresholds.taskFailures, MAX_TASK_FAILURES],
    ['job.queue-wait', 'queueWaitSeconds', thresholds.queueWaitSeconds, MAX_QUEUE_WAIT_S],
  ] as const;
  for (const [event, field, value, max] of pairs) {
    const listens = events.includes(event);
    const given = value !== undefined && value !== null;
    if (listens && !given) throw invalid(`event ${event} needs "${field}" (1 to ${max})`);
    if (!listens && given) throw invalid(`"${field}" is only for rules on event ${event}`);
    if (given && !(Number.isInteger(value) && value >= 1 && value <= max)) {
      throw invalid(`"${field}" must be a whole number from 1 to ${max}`);
    }
  }
  return {
    taskFailures: thresholds.taskFailures ?? null,
    queueWaitSeconds: thresholds.queueWaitSeconds ?? null,
  };
}

export function checkEvents(events: readonly string[]): NotificationEvent[] {
  if (events.length === 0)
    throw invalid(`name at least one event: ${NOTIFICATION_EVENTS.join(', ')}`);
  for (const e of events) {
    if (!(NOTIFICATION_EVENTS as readonly string[]).includes(e)) {
      throw invalid(`unknown event "${e}"; events are ${NOTIFICATION_EVENTS.join(', ')}`);
    }
  }
  return [...new Set(events)] as NotificationEvent[];
}

/**
 * The wait before attempt `attempt + 1`, after `attempt` failed: doubling from `baseMs`,
 * never past `maxMs`.
 */
export function retryDelayMs(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(baseMs * 2 ** Math.max(0, attempt - 1), maxMs);
}

/** The subject and text of an email notification. */
export function emailOf(payload: NotificationPayload): { subject: string; text: string } {
  const { job, node, task, queueWait } = payload;
  if (node?.quarantineReason !== undefined) {
    return {
      subject: `[Drover] node ${node.name} quarantined`,
      text:
        [
          `Node ${node.id} "${node.name}" (${node.hostname}) was quarantined at ${payload.at}: it takes no new work until an operator clears it.`,
          `Why: ${node.quarantineReason}`,
          `Clear it: drover nodes unquarantine ${node.id}`,
        ].join('\n') + '\n',
    };
  }
  if (node) {
    return {
      subject: `[Drover] node ${node.name} lost`,
      text:
        [
          `Node ${node.id} "${node.name}" (${node.hostname}) stopped reporting and is OFFLINE since ${payload.at}.`,
          `Last heard from: ${node.lastHeartbeatAt ?? '-'}`,
        ].join('\n') + '\n',
    };
  }
  if (!job) return { subject: `[Drover] ${payload.event}`, text: `${payload.event}\n` };
  if (task) {
    const lines = [
      `Task ${task.index} (frames ${task.frames}) of job ${job.id} "${job.name}" of ${job.user} has failed ${task.failures} times.`,
      '',
      `Task state: ${task.state}`,
      `Pool: ${job.pool}`,
    ];
    if (task.errorMessage) lines.push(`Error: ${task.errorName ?? ''} ${task.errorMessage}`.trim());
    return {
      subject: `[Drover] job ${job.id} ${job.name}: task ${task.index} failed ${task.failures} times`,
      text: lines.join('\n') + '\n',
    };
  }
  if (queueWait) {
    return {
      subject: `[Drover] job ${job.id} ${job.name} queued over ${queueWait.limitSeconds} s`,
      text:
        [
          `Job ${job.id} "${job.name}" of ${job.user} has waited ${queueWait.waitedSeconds} s in the queue (limit ${queueWait.limitSeconds} s) without starting.`,
          '',
          `Pool: ${job.pool}`,
          `Queued: ${queueWait.queuedAt}`,
        ].join('\n') + '\n',
    };
  }
  const verb =
    { 'job.completed': 'completed', 'job.failed': 'failed', 'job.canceled': 'was canceled' }[
      payload.event as string
    ] ?? payload.event;
  const lines = [
    `Job ${job.id} "${job.name}" of ${job.user} ${verb} at ${payload.at}.`,
    '',
    `State: ${job.state}`,
    `Pool: ${job.pool}`,
    `Submitted: ${job.submittedAt ?? '-'}`,
    `Started: ${job.startedAt ?? '-'}`,
    `Ended: ${job.endedAt ?? '-'}`,
  ];
  if (job.errorMessage) lines.push(`Error: ${job.errorName ?? ''} ${job.errorMessage}`.trim());
  return { subject: `[Drover] job ${job.id} ${job.name} ${verb}`, text: lines.join('\n') + '\n' };
}
