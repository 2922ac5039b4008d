import type { NotificationPayload } from '../../domain/notifications.js';
import {
  insertKeyedNotifications,
  jobsWaitingUnannounced,
  queueWaitKey,
  rulesHearing,
} from '../../store/notification-outbox.js';
import type { EngineContext } from '../context.js';
import { jobOfPayload } from './notification-hook.js';

/** Jobs announced per rule per scan; the next scan takes the rest. */
const BATCH = 200;

/**
 * A queue wait is the absence of an event (the job did not start), so no transaction
 * announces it: the deliverers scan for it on their tick. Each rule on job.queue-wait
 * looks for its jobs QUEUED since before its limit and not yet announced; each queueing
 * is announced once per rule, whichever replica finds it first (the outbox's unique key).
 * With no such rule, a scan is one lookup of the rules.
 */
export async function announceQueueWaits(ctx: EngineContext): Promise<number> {
  const rules = await rulesHearing(ctx.db, 'job.queue-wait');
  let written = 0;
  for (const rule of rules) {
    if (!rule.queue_wait_s) continue;
    const now = ctx.clock();
    const limitMs = rule.queue_wait_s * 1000;
    const jobs = await jobsWaitingUnannounced(ctx.db, rule, now - limitMs, BATCH);
    written += await insertKeyedNotifications(
      ctx.db,
      jobs.map((job) => {
        const queuedAt = job.queued_at!;
        const payload: NotificationPayload = {
          event: 'job.queue-wait',
          at: new Date(now).toISOString(),
          job: jobOfPayload(job),
          queueWait: {
            waitedSeconds: Math.floor((now - queuedAt) / 1000),
            limitSeconds: rule.queue_wait_s!,
            queuedAt: new Date(queuedAt).toISOString(),
          },
        };
        return {
          ruleId: rule.id,
          event: 'job.queue-wait',
          jobId: job.id,
          dedupeKey: queueWaitKey(job.id, queuedAt),
          payload: JSON.stringify(payload),
          now,
        };
      }),
    );
  }
  return written;
}
