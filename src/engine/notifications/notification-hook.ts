import {
  EVENT_OF_JOB_STATE,
  type NotificationEvent,
  type NotificationPayload,
} from '../../domain/notifications.js';
import type { Tx } from '../../store/database.js';
import { enqueueNotifications } from '../../store/notification-outbox.js';
import type { JobRow, NodeRow, TaskRow } from '../../store/schema.js';
import type { Emit } from '../context.js';

/*
 * The events that write notifications, each inside the transaction of the change it
 * announces, so a notification commits or rolls back with it. Each costs one indexed
 * insert-select over the rules; nothing when no rule listens.
 */

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** The job as every notification about it shows it. */
export function jobOfPayload(job: JobRow): NonNullable<NotificationPayload['job']> {
  return {
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
  };
}

/** Called by changeJobState(s) when jobs end (COMPLETED, FAILED, CANCELED): one statement for them all. */
export async function enqueueJobEndNotifications(
  tx: Tx,
  emit: Emit,
  jobs: readonly JobRow[],
  now: number,
): Promise<void> {
  const events: Enqueued[] = [];
  for (const job of jobs) {
    const event = EVENT_OF_JOB_STATE[job.state];
    if (event === undefined) continue;
    const payload: NotificationPayload = {
      event,
      at: new Date(now).toISOString(),
      job: jobOfPayload(job),
    };
    events.push({ event, owner: job.user_name, jobId: job.id, payload });
  }
  await enqueue(tx, emit, events, now);
}

/**
 * Called when an execution's failure has counted against its task: rules whose threshold
 * is exactly this count fire, so each fires once per task (again only if a requeue resets
 * the count and it climbs back).
 */
export async function enqueueTaskFailureNotifications(
  tx: Tx,
  emit: Emit,
  job: JobRow,
  task: Pick<TaskRow, 'id' | 'task_index' | 'frames'>,
  outcome: { failures: number; state: string; errorName: string; errorMessage: string },
  now: number,
): Promise<void> {
  const payload: NotificationPayload = {
    event: 'task.failed',
    at: new Date(now).toISOString(),
    job: jobOfPayload(job),
    task: {
      id: task.id,
      index: task.task_index,
      frames: task.frames,
      failures: outcome.failures,
      state: outcome.state,
      errorName: outcome.errorName,
      errorMessage: outcome.errorMessage,
    },
  };
  const more = { taskId: task.id, taskFailures: outcome.failures };
  await enqueue(
    tx,
    emit,
    [{ event: 'task.failed', owner: job.user_name, jobId: job.id, payload, more }],
    now,
  );
}

/** Called by the reaper for each node it marks OFFLINE: global rules hear it. */
export async function enqueueNodeLostNotifications(
  tx: Tx,
  emit: Emit,
  node: NodeRow,
  now: number,
): Promise<void> {
  await enqueueNodeNotifications(tx, emit, 'node.lost', node, now, {});
}

/** Called when the quarantine scan takes a node out of the farm: global rules hear it. */
export async function enqueueNodeQuarantinedNotifications(
  tx: Tx,
  emit: Emit,
  node: NodeRow,
  reason: string,
  now: number,
): Promise<void> {
  await enqueueNodeNotifications(tx, emit, 'node.quarantined', node, now, {
    quarantineReason: reason,
  });
}

/** A node's event, for global rules (a node has no owner). */
async function enqueueNodeNotifications(
  tx: Tx,
  emit: Emit,
  event: 'node.lost' | 'node.quarantined',
  node: NodeRow,
  now: number,
  more: { quarantineReason?: string },
): Promise<void> {
  const payload: NotificationPayload = {
    event,
    at: new Date(now).toISOString(),
    node: {
      id: node.id,
      name: node.name,
      hostname: node.hostname,
      lastHeartbeatAt: iso(node.last_heartbeat),
      ...more,
    },
  };
  await enqueue(
    tx,
    emit,
    [{ event, owner: null, jobId: null, payload, more: { nodeId: node.id } }],
    now,
  );
}

interface Enqueued {
  event: NotificationEvent;
  owner: string | null;
  jobId: number | null;
  payload: NotificationPayload;
  more?: { taskId?: number; nodeId?: number; taskFailures?: number };
}

async function enqueue(
  tx: Tx,
  emit: Emit,
  events: readonly Enqueued[],
  now: number,
): Promise<void> {
  const written = await enqueueNotifications(
    tx,
    events.map(({ event, owner, jobId, payload, more }) => ({
      owner,
      event,
      jobId,
      payload: JSON.stringify(payload),
      now,
      ...more,
    })),
  );
  // Wakes the deliverers (on every replica) after the commit; nothing when no rule matched.
  const counts = new Map<number | null, number>();
  for (const jobId of written) counts.set(jobId, (counts.get(jobId) ?? 0) + 1);
  for (const [jobId, count] of counts) emit({ type: 'notification.queued', jobId, count });
}
