import {
  dependencyFailurePolicyOf,
  DEPENDENCY_FAILURE_TEXT,
} from '../../domain/dependency-failure.js';
import { notFound } from '../../domain/errors.js';
import { nextScheduleEvent, parseStoredSchedule } from '../../domain/job-schedule.js';
import { otherNodesOnJob } from '../../store/executions.js';
import {
  dependenciesOf,
  failedDependencies,
  findJob,
  nodeListOf,
  unmetDependencies,
} from '../../store/jobs.js';
import { nodeFailuresOf } from '../../store/node-blocks.js';
import { freeCapacity, tasksThatFit, type FreeCapacity } from '../../store/node-capacity.js';
import { activeNodes } from '../../store/nodes.js';
import { pinText, queuedPinsOf } from '../../store/retry-pins.js';
import type { JobRow, NodeRow } from '../../store/schema.js';
import { waitingRetries } from '../../store/task-retries.js';
import type { EngineContext } from '../context.js';
import { limitWaits, type LimitWait } from '../limits/limit-waits.js';
import { poolWaits, type PoolWait } from '../pools/pool-waits.js';
import { meetingRequirement, noNodeMeets } from './host-requirement-waits.js';

export interface WaitingReason {
  code:
    | 'NOT_QUEUED'
    | 'DELETED'
    | 'DEPENDENCIES_PENDING'
    | 'DEPENDENCY_FAILED'
    | 'FRAMES_PENDING'
    | 'SCHEDULED'
    | 'OUTSIDE_SCHEDULE'
    | 'PENDED_BY_HAND'
    | 'NO_NODE_ONLINE'
    | 'NO_NODE_IN_POOL_OR_GROUP'
    | 'NO_NODE_ALLOWED'
    | 'RESOURCES_TOO_LARGE'
    | 'HOST_REQUIREMENTS'
    | 'MACHINE_LIMIT_REACHED'
    | 'NODES_BLOCKED'
    | 'RETRY_DELAYED'
    | 'RETRIES_BOUND'
    | LimitWait['code']
    | 'CAPACITY_FULL'
    | PoolWait['code']
    | 'NODES_BUSY';
  message: string;
}

/**
 * Why a job that is waiting is not running, in words an operator can act on. An empty list
 * for a queued job means a suitable node is free and should take it at its next acquire.
 */
export async function waitingReasons(ctx: EngineContext, jobId: number): Promise<WaitingReason[]> {
  const job = await findJob(ctx.db, jobId);
  if (!job) throw notFound('job', jobId);
  const reasons: WaitingReason[] = [];
  if (job.deleted_at !== null) reasons.push({ code: 'DELETED', message: 'the job is deleted' });
  if (job.state === 'PENDING') {
    if (job.pend_reason === 'DEPENDENCIES') {
      reasons.push(...(await dependencyReasons(ctx, job)));
    } else if (job.pend_reason === 'SCHEDULE') {
      const at = nextStartAt(ctx, job);
      reasons.push({
        code: 'SCHEDULED',
        message: at
          ? `scheduled: next start at ${at}`
          : 'scheduled, but its schedule has no start left; change the schedule or release the job by hand',
      });
    } else {
      reasons.push({ code: 'PENDED_BY_HAND', message: 'pended by hand; release it to run' });
    }
    return reasons;
  }
  if (job.state === 'SUSPENDED' && job.suspend_reason === 'SCHEDULE') {
    const at = nextStartAt(ctx, job);
    reasons.push({
      code: 'OUTSIDE_SCHEDULE',
      message: at
        ? `outside its schedule window until ${at}`
        : 'outside its schedule window, which has ended; change the schedule to run it again',
    });
    return reasons;
  }
  if (job.state !== 'QUEUED' && job.state !== 'RUNNING') {
    const why = job.state === 'CANCELED' && job.error_message ? ` (${job.error_message})` : '';
    reasons.push({ code: 'NOT_QUEUED', message: `the job is ${job.state}${why}` });
    return reasons;
  }
  if (job.frame_dependent === 1 && job.tasks_pending > 0) {
    const on = await dependenciesOf(ctx.db, jobId);
    reasons.push({
      code: 'FRAMES_PENDING',
      message: `${job.tasks_pending} task(s) wait for the same frames of job${on.length === 1 ? '' : 's'} ${on.join(', ')} to complete`,
    });
    reasons.push(
      ...(await dependencyReasons(ctx, job)).filter((r) => r.code !== 'DEPENDENCIES_PENDING'),
    );
  }
  if (job.tasks_queued === 0) {
    const retries = job.retry_delay_json === null ? undefined : await waitingRetries(ctx.db, jobId);
    if (retries?.next != null) {
      reasons.push({
        code: 'RETRY_DELAYED',
        message: `${retries.count} failed task(s) wait to retry; the next at ${new Date(retries.next).toISOString()}`,
      });
    }
    return reasons;
  }

  const nodes = await activeNodes(ctx.db);
  if (nodes.length === 0) {
    reasons.push({ code: 'NO_NODE_ONLINE', message: 'no enabled node is online' });
    return reasons;
  }
  const inPool = nodes.filter((n) => {
    const pools = JSON.parse(n.pools_json) as string[];
    const groups = JSON.parse(n.groups_json) as string[];
    return (
      (job.pool === '' || pools.includes(job.pool)) && (job.grp === '' || groups.includes(job.grp))
    );
  });
  if (inPool.length === 0) {
    reasons.push({
      code: 'NO_NODE_IN_POOL_OR_GROUP',
      message: `no online node is in pool "${job.pool || 'any'}" and group "${job.grp || 'any'}"`,
    });
    return reasons;
  }
  const list = await nodeListOf(ctx.db, jobId);
  const allowed = inPool.filter((n) =>
    job.node_list_mode === 'ALLOW'
      ? list.includes(n.name)
      : job.node_list_mode === 'DENY'
        ? !list.includes(n.name)
        : true,
  );
  if (allowed.length === 0) {
    reasons.push({
      code: 'NO_NODE_ALLOWED',
      message: `the job's ${job.node_list_mode === 'ALLOW' ? 'allow' : 'deny'} list (${list.join(', ')}) admits no online node of its pool and group`,
    });
    return reasons;
  }
  const large = allowed.filter(
    (n) =>
      n.cpus >= job.req_cpus &&
      n.mem >= job.req_mem &&
      n.disk >= job.req_disk &&
      n.gpus >= job.req_gpus,
  );
  if (large.length === 0) {
    reasons.push({
      code: 'RESOURCES_TOO_LARGE',
      message: `the job needs cpus ${job.req_cpus}, mem ${job.req_mem} MiB, disk ${job.req_disk} MiB, gpus ${job.req_gpus}; no allowed node has that much`,
    });
    return reasons;
  }
  const fits = meetingRequirement(job, large);
  if (fits.length === 0) {
    reasons.push({ code: 'HOST_REQUIREMENTS', message: noNodeMeets(job, large) });
    return reasons;
  }
  let usable = fits;
  if (job.blocked_nodes > 0) {
    const blocked = new Set(
      (await nodeFailuresOf(ctx.db, jobId)).filter((b) => b.blocked).map((b) => b.nodeId),
    );
    usable = fits.filter((n) => !blocked.has(n.id));
    if (usable.length === 0) {
      reasons.push({
        code: 'NODES_BLOCKED',
        message: `every node that could run it failed it ${job.bad_node_failures} times and is blocked from it (${fits.map((n) => n.name).join(', ')}); clear them at /api/v1/jobs/${jobId}/node-failures`,
      });
      return reasons;
    }
  }
  if (job.uses_limits !== 0) {
    const waits = await limitWaits(ctx.db, jobId, usable);
    if (waits.length > 0) return [...reasons, ...waits];
  }
  if (
    job.machine_limit > 0 &&
    (await otherNodesOnJob(ctx.db, jobId, -1, job.machine_limit_release)) >= job.machine_limit
  ) {
    reasons.push({
      code: 'MACHINE_LIMIT_REACHED',
      message: `${job.machine_limit} node(s) already work on it, its machine limit`,
    });
    return reasons;
  }
  if (job.uses_capacity !== 0) {
    const full = await capacityFull(ctx, job, usable);
    if (full) return [...reasons, full];
  }
  const fair = await poolWaits(ctx, job);
  if (fair.some((w) => w.holds))
    return [...reasons, ...fair.map(({ code, message }) => ({ code, message }))];
  reasons.push(...fair.map(({ code, message }) => ({ code, message })));
  if (job.pinned_retries !== 0) {
    for (const pin of await queuedPinsOf(ctx.db, jobId)) {
      reasons.push({ code: 'RETRIES_BOUND', message: pinText(pin) });
    }
  }
  reasons.push({
    code: 'NODES_BUSY',
    message: `${usable.length} node(s) could run it; they are busy with other work or of higher priority`,
  });
  return reasons;
}

/**
 * A job placed by capacity whose task fits none of the nodes that could run it, as they are
 * loaded now: what it asks and the node with the most room, so the operator sees how far off
 * it is.
 */
async function capacityFull(
  ctx: EngineContext,
  job: JobRow,
  nodes: readonly NodeRow[],
): Promise<WaitingReason | undefined> {
  let best: { node: NodeRow; free: FreeCapacity } | undefined;
  for (const node of nodes) {
    const free = await freeCapacity(ctx.db, node);
    if (tasksThatFit(free, job) > 0) return undefined;
    if (!best || free.cpus > best.free.cpus) best = { node, free };
  }
  if (!best) return undefined;
  const f = best.free;
  return {
    code: 'CAPACITY_FULL',
    message: `no node has room for a task of it (cpus ${job.req_cpus}, mem ${job.req_mem} MiB, gpus ${job.req_gpus} per task) beside what it runs; the most free, ${best.node.name}, has cpus ${round(f.cpus)}, mem ${round(f.mem)} MiB, gpus ${round(f.gpus)}`,
  };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

/** When the job's schedule next starts (ISO 8601), or null if it never does again. */
function nextStartAt(ctx: EngineContext, job: { schedule_json: string | null }): string | null {
  const schedule = parseStoredSchedule(job.schedule_json);
  const next = schedule && nextScheduleEvent(schedule, ctx.clock(), 'start');
  return next ? new Date(next.at).toISOString() : null;
}

/**
 * A job waiting on its dependencies: the ones still to complete, and apart the ones that
 * failed or were canceled, with what the job's policy makes it do about them.
 */
async function dependencyReasons(ctx: EngineContext, job: JobRow): Promise<WaitingReason[]> {
  const unmet = await unmetDependencies(ctx.db, job.id);
  // A job waiting frame by frame counts its failed dependencies, which hold its tasks.
  const failed = (await failedDependencies(ctx.db, job.id)).filter(
    (d) =>
      unmet.includes(d.id) || (job.frame_dependent === 1 && job.on_dependency_failure !== 'RUN'),
  );
  const failedIds = new Set(failed.map((d) => d.id));
  const waiting = unmet.filter((id) => !failedIds.has(id));
  const reasons: WaitingReason[] = [];
  if (waiting.length > 0) {
    reasons.push({
      code: 'DEPENDENCIES_PENDING',
      message: `waiting for job${waiting.length === 1 ? '' : 's'} ${waiting.join(', ')} to complete`,
    });
  }
  if (failed.length > 0) {
    const policy = dependencyFailurePolicyOf(job.on_dependency_failure);
    const what = failed.map((d) => `job ${d.id} ${d.state}`).join(', ');
    reasons.push({
      code: 'DEPENDENCY_FAILED',
      message: `${what}; on a failed dependency this job does: ${policy} (${DEPENDENCY_FAILURE_TEXT[policy]})${policy === 'WAIT' ? ': retry or requeue it, or change the policy or dependencies' : ''}`,
    });
  }
  return reasons;
}
