import { EVENT_OF_JOB_STATE, type NotificationPayload } from '../../domain/notifications.js';
import type { Tx } from '../../store/database.js';
import { enqueueNotifications } from '../../store/notification-outbox.js';
import type { JobRow } from '../../store/schema.js';
import type { Emit } from '../context.js';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/**
 * Called by changeJobState inside the transaction that ends a job: writes the outbox rows
 * of the rules that listen, so the notification commits or rolls back with the end. One
 * indexed insert-select per job end, nothing per task.
 */
export async function enqueueJobEndNotifications(
  tx: Tx,
  emit: Emit,
  job: JobRow,
  now: number,
): Promise<void> {
  const event = EVENT_OF_JOB_STATE[job.state];
  if (event === undefined) return;
  const payload: NotificationPayload = {
    event,
    at: new Date(now).toISOString(),
    job: {
      id: job.id,
      name: job.name,
      state: job.state,
      user: job.user_name,
      pool: job.pool,
      submittedAt: iso(job.created_at),
      startedAt: iso(job.started_at),
      endedAt: iso(job.ended_at),
      errorName: job.error_name,
      errorMessage: job.error_message,
    },
  };
  const count = await enqueueNotifications(tx, {
    owner: job.user_name,
    event,
    jobId: job.id,
    payload: JSON.stringify(payload),
    now,
  });
  // Wakes the deliverers (on every replica) after the commit; nothing when no rule matched.
  if (count > 0) emit({ type: 'notification.queued', jobId: job.id, count });
}
