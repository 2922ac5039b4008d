import { invalid } from './errors.js';

/*
 * Notification rules: which job events a person wants to hear about, and where to send
 * them. Pure checks and arithmetic; the engine stores and delivers.
 */

export const NOTIFICATION_EVENTS = ['job.completed', 'job.failed', 'job.canceled'] as const;
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];

export const NOTIFICATION_CHANNELS = ['webhook', 'email'] as const;
export type NotificationChannel = (typeof NOTIFICATION_CHANNELS)[number];

/** The job state whose arrival each event announces. */
export const EVENT_OF_JOB_STATE: Readonly<Record<string, NotificationEvent>> = {
  COMPLETED: 'job.completed',
  FAILED: 'job.failed',
  CANCELED: 'job.canceled',
};

export const MAX_RULES_PER_OWNER = 50;
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
  job: {
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

// Deliberately plain: one @, no spaces, a dot-free host is allowed (localhost mail sinks).
const EMAIL = /^[^\s@]+@[^\s@]+$/;

export function checkEmailAddress(raw: string): string {
  if (!EMAIL.test(raw))
    throw invalid(
      `target "${raw.slice(0, 100)}" is not an email address; give e.g. alice@example.com`,
    );
  return raw;
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
  const { job } = payload;
  const verb = {
    'job.completed': 'completed',
    'job.failed': 'failed',
    'job.canceled': 'was canceled',
  }[payload.event];
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
