import { notFound } from '../../domain/errors.js';
import { nodeStatus } from '../../domain/node-status.js';
import { liveExecutionsOfNode, otherNodesOnJob } from '../../store/executions.js';
import { nodeListOf } from '../../store/jobs.js';
import { nodeFailuresOf } from '../../store/node-blocks.js';
import { findNode } from '../../store/nodes.js';
import { pinText, queuedOpenTo, queuedPinsOf } from '../../store/retry-pins.js';
import type { JobRow, NodeRow } from '../../store/schema.js';
import type { EngineContext } from '../context.js';
import { nodeMisses } from '../jobs/host-requirement-waits.js';
import { limitWaits, type LimitWait } from '../limits/limit-waits.js';
import { poolWaits } from '../pools/pool-waits.js';

/*
 * "Why is node X idle" (docs/scheduling.md#why-is-a-node-idle): the mirror of a job's
 * waiting reasons (jobs/waiting-reasons.ts). What stops the node itself (offline,
 * quarantined, disabled, every slot taken), then, for the queued jobs in the order the
 * claim walks them (priority, then age), what stops this node from taking each. A job with
 * no reason is one the node should take at its next claim.
 */

export interface NodeIdleReason {
  code: 'OFFLINE' | 'QUARANTINED' | 'DISABLED' | 'SLOTS_FULL';
  message: string;
}

export interface JobForNodeReason {
  code:
    | 'NOT_IN_POOL_OR_GROUP'
    | 'NOT_ALLOWED'
    | 'RESOURCES_TOO_LARGE'
    | 'HOST_REQUIREMENTS'
    | 'NODE_BLOCKED'
    | 'MACHINE_LIMIT_REACHED'
    | LimitWait['code']
    | 'BURST_LIMIT'
    | 'RETRIES_ELSEWHERE';
  message: string;
}

export interface IdleReasons {
  nodeId: number;
  nodeName: string;
  status: string;
  reasons: NodeIdleReason[];
  jobs: { jobId: number; name: string; priority: number; reasons: JobForNodeReason[] }[];
  /** Queued jobs there are; `jobs` holds the first `limit` of them. */
  queuedJobs: number;
}

export const MAX_IDLE_REASON_JOBS = 100;

export async function idleReasons(
  ctx: EngineContext,
  nodeId: number,
  limit: number,
): Promise<IdleReasons> {
  const node = await findNode(ctx.db, nodeId);
  if (!node) throw notFound('node', nodeId);
  const running = (await liveExecutionsOfNode(ctx.db, nodeId)).length;
  const status = nodeStatus(node, running);
  const reasons: NodeIdleReason[] = [];
  if (status === 'OFFLINE') {
    reasons.push({ code: 'OFFLINE', message: 'the node stopped reporting; start its worker' });
  } else if (status === 'QUARANTINED') {
    reasons.push({
      code: 'QUARANTINED',
      message: `quarantined for its failure rate: ${node.quarantine_reason ?? ''}; clear it at DELETE /api/v1/nodes/${nodeId}/quarantine`,
    });
  } else if (status === 'DISABLED') {
    reasons.push({ code: 'DISABLED', message: 'disabled by an operator; enable it to take work' });
  }
  if (running >= node.slots) {
    reasons.push({
      code: 'SLOTS_FULL',
      message: `it runs ${running} task(s) in its ${node.slots} slot(s)`,
    });
  }
  const queued = ctx.db
    .selectFrom('jobs')
    .where('state', 'in', ['QUEUED', 'RUNNING'])
    .where('deleted_at', 'is', null)
    .where('tasks_queued', '>', 0);
  const [rows, count] = await Promise.all([
    queued
      .selectAll()
      .orderBy('priority', 'desc')
      .orderBy('created_at')
      .orderBy('id')
      .limit(limit)
      .execute(),
    queued.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  const jobs = [];
  for (const job of rows) {
    jobs.push({
      jobId: job.id,
      name: job.name,
      priority: job.priority,
      reasons: await whatStops(ctx, job, node),
    });
  }
  return {
    nodeId,
    nodeName: node.name,
    status,
    reasons,
    jobs,
    queuedJobs: Number(count.n),
  };
}

/** What stops this node from taking the job, in the order of the job's waiting reasons. */
async function whatStops(
  ctx: EngineContext,
  job: JobRow,
  node: NodeRow,
): Promise<JobForNodeReason[]> {
  const pools = JSON.parse(node.pools_json) as string[];
  const groups = JSON.parse(node.groups_json) as string[];
  if (
    (job.pool !== '' && !pools.includes(job.pool)) ||
    (job.grp !== '' && !groups.includes(job.grp))
  ) {
    return [
      {
        code: 'NOT_IN_POOL_OR_GROUP',
        message: `the job is for pool "${job.pool || 'any'}" and group "${job.grp || 'any'}"; the node is in pools ${pools.join(', ') || 'none'} and groups ${groups.join(', ') || 'none'}`,
      },
    ];
  }
  if (job.node_list_mode !== 'NONE') {
    const list = await nodeListOf(ctx.db, job.id);
    if (list.includes(node.name) !== (job.node_list_mode === 'ALLOW')) {
      return [
        {
          code: 'NOT_ALLOWED',
          message: `the job's ${job.node_list_mode === 'ALLOW' ? 'allow' : 'deny'} list (${list.join(', ')}) leaves the node out`,
        },
      ];
    }
  }
  if (
    node.cpus < job.req_cpus ||
    node.mem < job.req_mem ||
    node.disk < job.req_disk ||
    node.gpus < job.req_gpus
  ) {
    return [
      {
        code: 'RESOURCES_TOO_LARGE',
        message: `the job needs cpus ${job.req_cpus}, mem ${job.req_mem} MiB, disk ${job.req_disk} MiB, gpus ${job.req_gpus}; the node has ${node.cpus}, ${node.mem}, ${node.disk}, ${node.gpus}`,
      },
    ];
  }
  const misses = nodeMisses(job, node);
  if (misses) return [{ code: 'HOST_REQUIREMENTS', message: misses }];
  if (job.blocked_nodes > 0) {
    const mine = (await nodeFailuresOf(ctx.db, job.id)).find((b) => b.nodeId === node.id);
    if (mine?.blocked) {
      return [
        {
          code: 'NODE_BLOCKED',
          message: `the node failed the job ${mine.failures} times and is blocked from it; clear it at DELETE /api/v1/jobs/${job.id}/node-failures?node=${node.id}`,
        },
      ];
    }
  }
  const reasons: JobForNodeReason[] = [];
  if (job.uses_limits !== 0) reasons.push(...(await limitWaits(ctx.db, job.id, [node])));
  if (
    job.machine_limit > 0 &&
    (await otherNodesOnJob(ctx.db, job.id, node.id, job.machine_limit_release)) >= job.machine_limit
  ) {
    reasons.push({
      code: 'MACHINE_LIMIT_REACHED',
      message: `${job.machine_limit} other node(s) already work on it, its machine limit`,
    });
  }
  // A burst limit holds the job back on every node; fair ordering alone does not.
  for (const w of await poolWaits(ctx, job)) {
    if (w.holds && w.code === 'BURST_LIMIT') reasons.push({ code: w.code, message: w.message });
  }
  // Every queued task is a retry a rule sends to another node (retry rules' node).
  if (
    job.pinned_retries !== 0 &&
    (await queuedOpenTo(ctx.db, ctx.dialect, job.id, node.id)) === 0
  ) {
    const pins = await queuedPinsOf(ctx.db, job.id);
    reasons.push({ code: 'RETRIES_ELSEWHERE', message: pins.map(pinText).join('; ') });
  }
  return reasons;
}
