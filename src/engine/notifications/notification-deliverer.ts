import {
  emailOf,
  retryDelayMs,
  webhookHostAllowed,
  type NotificationPayload,
} from '../../domain/notifications.js';
import {
  claimDueNotifications,
  rescheduleNotification,
  settleNotification,
} from '../../store/notification-outbox.js';
import { findNotificationRule } from '../../store/notification-rules.js';
import type { NotificationOutboxRow } from '../../store/schema.js';
import type { EngineContext } from '../context.js';
import type { EngineSettings } from '../settings.js';
import type { EmailSender } from './email-sender.js';
import { announceQueueWaits } from './queue-wait-scan.js';
import { postWebhook } from './webhook-sender.js';

/** A failure no retry can mend: the notification is marked FAILED at once. */
class NotSendable extends Error {}

/** Rows claimed per tick; the next tick takes the rest. */
const BATCH = 20;

export interface DeliveryResult {
  delivered: number;
  retried: number;
  failed: number;
}

/**
 * Sends what the outbox holds. Every replica runs one: a claim pushes a row's due time past
 * a lease longer than any attempt may take, so only one replica sends it, and a replica
 * that dies mid-send leaves the row to come due again. A send that succeeds but whose
 * mark is lost (a crash between the two) is sent again: delivery is at least once, and
 * the body's deliveryId lets a receiver drop the repeat.
 */
export class NotificationDeliverer {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;
  #again = false;
  #unsubscribe: (() => void) | undefined;

  constructor(
    private readonly ctx: EngineContext,
    private readonly settings: EngineSettings,
    private readonly email: EmailSender | undefined,
    private readonly webhookHosts?: readonly string[],
  ) {}

  /**
   * Ticks on a timer (retries, rows a dead replica left), and at once when a job's end wrote
   * notifications: a farm without rules sees no work here but the timer's.
   */
  start(): void {
    this.#timer = setInterval(() => this.#kick(), this.settings.notificationIntervalMs);
    this.#timer.unref();
    this.#unsubscribe = this.ctx.bus.subscribe((event) => {
      if (event.type === 'notification.queued') this.#kick();
    });
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#unsubscribe?.();
    this.#again = false;
    await this.#running;
    this.email?.close();
  }

  #kick(): void {
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.tick()
      .catch(() => undefined)
      .finally(() => {
        this.#running = undefined;
        if (this.#again) {
          this.#again = false;
          this.#kick();
        }
      });
  }

  /** Announces queue waits that came due, then claims the due rows and attempts each once. */
  async tick(): Promise<DeliveryResult> {
    const result: DeliveryResult = { delivered: 0, retried: 0, failed: 0 };
    // A scan that fails (the database away) must not keep due notifications from going out.
    await announceQueueWaits(this.ctx).catch(() => undefined);
    const now = this.ctx.clock();
    // Longer than an attempt can last, so a live sender never loses its claim.
    const leaseUntil = now + 3 * this.settings.notificationTimeoutMs;
    const rows = await claimDueNotifications(this.ctx.db, this.ctx.dialect, now, leaseUntil, BATCH);
    await Promise.all(
      rows.map(async (row) => {
        const outcome = await this.#attempt(row);
        result[outcome]++;
      }),
    );
    return result;
  }

  async #attempt(row: NotificationOutboxRow): Promise<keyof DeliveryResult> {
    const { db } = this.ctx;
    try {
      await this.#send(row);
    } catch (error) {
      const message = ((error as Error).message || String(error)).slice(0, 500);
      const now = this.ctx.clock();
      if (row.attempts >= this.settings.notificationMaxAttempts || error instanceof NotSendable) {
        await settleNotification(db, row.id, row.attempts, {
          state: 'FAILED',
          at: now,
          error: message,
        });
        return 'failed';
      }
      const delay = retryDelayMs(
        row.attempts,
        this.settings.notificationRetryBaseMs,
        this.settings.notificationRetryMaxMs,
      );
      await rescheduleNotification(db, row.id, row.attempts, now + delay, message);
      return 'retried';
    }
    await settleNotification(db, row.id, row.attempts, {
      state: 'DELIVERED',
      at: this.ctx.clock(),
    });
    return 'delivered';
  }

  async #send(row: NotificationOutboxRow): Promise<void> {
    const rule = await findNotificationRule(this.ctx.db, row.rule_id);
    // Deleting a rule deletes its rows too; one claimed just before is not sent.
    if (!rule) return;
    const payload = { deliveryId: row.id, ...(JSON.parse(row.payload) as NotificationPayload) };
    if (rule.channel === 'webhook') {
      // The list may have changed since the rule was made: it holds at every send.
      if (!webhookHostAllowed(rule.target, this.webhookHosts)) {
        throw new NotSendable(`POST ${rule.target}: host is not on the webhook allow-list`);
      }
      await postWebhook(
        rule.target,
        rule.secret ?? '',
        JSON.stringify(payload),
        { 'X-Drover-Event': row.event, 'X-Drover-Delivery': String(row.id) },
        this.settings.notificationTimeoutMs,
      );
      return;
    }
    if (!this.email) throw new Error('no SMTP server is configured (--smtp-url)');
    const { subject, text } = emailOf(payload);
    await this.email.send(rule.target, subject, text);
  }
}
