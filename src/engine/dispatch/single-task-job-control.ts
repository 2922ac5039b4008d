import type { Readable } from 'node:stream';
import { DroverError } from '../../domain/errors.js';
import { LIVE_EXECUTION_STATES, type ExecutionState } from '../../domain/execution-state.js';
import type { Tx } from '../../store/database.js';
import { findExecution, liveExecutionsOfJob } from '../../store/executions.js';
import {
  findOutputByNameAndType,
  markOutputDeleted,
  markOutputsOfJobDeleted,
} from '../../store/named-outputs.js';
import { nodeFailuresOf } from '../../store/node-blocks.js';
import { capacityRoom, tryNodeClaimLock } from '../../store/node-capacity.js';
import { findNode, updateNode } from '../../store/nodes.js';
import { findOutput, insertOutput, type OutputRow } from '../../store/outputs.js';
import { burstRoom, holderRunning, jobShare } from '../../store/pools.js';
import { queuedOpenTo } from '../../store/retry-pins.js';
import type { JobRow, TaskRow } from '../../store/schema.js';
import { tasksInStates } from '../../store/tasks.js';
import { inTransaction, type Emit, type EngineContext } from '../context.js';
import { nodeMisses } from '../jobs/host-requirement-waits.js';
import { lockedJob } from '../jobs/job-actions.js';
import { checkOutputName, DEFAULT_UPLOAD_LIMIT, withStagedUpload } from '../outputs/outputs.js';
import type { EngineSettings } from '../settings.js';
import { changeJobState, endExecution, moveTasks } from '../state-changes.js';
import { dispatchTask, giveGpus } from './task-dispatch.js';

/*
 * Control of jobs that have exactly one task, by a node that names the job it wants
 * (UFDL's nodes pick a job from a list and claim it, where Drover's own workers ask the
 * dispatcher for whatever is next). The claim is the same dispatch the dispatcher makes —
 * an ACQUIRED execution with a lease, the task RUNNING, the job RUNNING — so every other
 * face sees a claimed job exactly as one its own workers took.
 */

export type ClaimResult =
  | { kind: 'acquired'; executionId: number }
  | { kind: 'held-by-self'; executionId: number }
  | { kind: 'held-by-other'; nodeId: number }
  | { kind: 'refused'; reason: string };

async function onlyTask(tx: Tx, job: JobRow): Promise<TaskRow | undefined> {
  if (job.task_count !== 1) return undefined;
  const tasks = await tasksInStates(tx, job.id, [
    'PENDING',
    'QUEUED',
    'RUNNING',
    'SUSPENDED',
    'COMPLETED',
    'FAILED',
    'CANCELED',
  ]);
  return tasks[0];
}

/**
 * Hands the job's one task to `nodeId`. Pools, groups, resources and the allow list are
 * not consulted: the node chose the job itself; its host requirement is. The job must be dispatchable (QUEUED or
 * RUNNING, not deleted) and its task QUEUED.
 */
export async function claimSingleTaskJob(
  ctx: EngineContext,
  settings: EngineSettings,
  jobId: number,
  nodeId: number,
): Promise<ClaimResult> {
  return inTransaction(ctx, async (tx, emit) => {
    const job = await lockedJob(ctx, tx, jobId);
    const live = await liveExecutionsOfJob(tx, jobId);
    const held = live[0];
    if (held && held.node_id === nodeId) return { kind: 'held-by-self', executionId: held.id };
    if (held) return { kind: 'held-by-other', nodeId: held.node_id };
    const task = await onlyTask(tx, job);
    if (!task) return { kind: 'refused', reason: `job ${jobId} has ${job.task_count} tasks` };
    if (job.deleted_at !== null) return { kind: 'refused', reason: `job ${jobId} is deleted` };
    if (job.state !== 'QUEUED' && job.state !== 'RUNNING') {
      return { kind: 'refused', reason: `job ${jobId} is ${job.state}` };
    }
    if (task.state !== 'QUEUED') {
      return { kind: 'refused', reason: `the task of job ${jobId} is ${task.state}` };
    }
    if (job.uses_limits !== 0) {
      // Counting a licence needs the claim's locks (store/limits.ts); the queue has them.
      return { kind: 'refused', reason: `job ${jobId} takes limits; acquire it from the queue` };
    }
    if (
      job.blocked_nodes > 0 &&
      (await nodeFailuresOf(tx, jobId)).some((b) => b.nodeId === nodeId && b.blocked)
    ) {
      return {
        kind: 'refused',
        reason: `node ${nodeId} failed job ${jobId} and is blocked from it`,
      };
    }
    if (job.pinned_retries !== 0 && (await queuedOpenTo(tx, ctx.dialect, jobId, nodeId)) === 0) {
      return {
        kind: 'refused',
        reason: `the task of job ${jobId} is a retry that a retry rule keeps for another node`,
      };
    }
    const node = await findNode(tx, nodeId);
    if (!node) return { kind: 'refused', reason: `node ${nodeId} does not exist` };
    if (node.enabled !== 1) return { kind: 'refused', reason: `node ${nodeId} is disabled` };
    // A host requirement says what the task cannot run without (an OS, a GPU's memory),
    // which the node's choice does not change.
    const misses = nodeMisses(job, node);
    if (misses) return { kind: 'refused', reason: `job ${jobId}: ${misses}` };
    let capacity: Awaited<ReturnType<typeof capacityRoom>> | undefined;
    if (job.uses_capacity !== 0) {
      // Under the node's claim lock, as the queue's claims count: never awaited (a claim of
      // the node holds it for milliseconds), so the node asks again.
      if (!(await tryNodeClaimLock(tx, ctx.dialect, nodeId))) {
        return { kind: 'refused', reason: `node ${nodeId} is claiming other work; try again` };
      }
      capacity = await capacityRoom(tx, node, jobId);
      if (capacity.room < 1) {
        return {
          kind: 'refused',
          reason: `node ${nodeId} has no room for job ${jobId} (cpus ${job.req_cpus}, mem ${job.req_mem} MiB, gpus ${job.req_gpus}) beside what it runs`,
        };
      }
    }
    const burst = await burstRefusal(ctx, tx, job);
    if (burst) return { kind: 'refused', reason: burst };
    const now = ctx.clock();
    await updateNode(tx, nodeId, { last_heartbeat: now, state: 'ONLINE' });
    const { execution } = await dispatchTask(ctx, tx, emit, task, nodeId, settings.leaseMs);
    if (capacity && capacity.gpusPerTask > 0) {
      await giveGpus(tx, [{ execution, task }], capacity.free.gpuIds, capacity.gpusPerTask);
    }
    return { kind: 'acquired', executionId: execution.id };
  });
}

/**
 * Why a weighted pool's burst limit keeps the job from starting now, if it does: counted as
 * the queue's claims count it (store/pools.ts burstRoom: under the holder's advisory lock on
 * PostgreSQL, tried and never awaited), so a named claim never takes a user (project) past it.
 */
async function burstRefusal(ctx: EngineContext, tx: Tx, job: JobRow): Promise<string | undefined> {
  const share = await jobShare(tx, job);
  if (share?.burst == null) return undefined;
  const room = await burstRoom(tx, ctx.dialect, share.pool, share.by, share.holder, share.burst);
  if (room < 0) {
    return `another claim is counting the burst limit of pool ${share.pool}; try again`;
  }
  if (room >= 1) return undefined;
  const who = share.by === 'project' ? `project ${share.holder}` : `user ${share.holder}`;
  const running = await holderRunning(tx, share.pool, share.by, share.holder);
  return `${who} is at ${share.by === 'project' ? 'its' : 'their'} burst limit in pool ${share.pool} (${running} running, limit ${share.burst})`;
}

/** A FAILED job back in the queue with its tries forgotten; its outputs are marked deleted. */
export async function resetFailedJob(ctx: EngineContext, jobId: number): Promise<void> {
  await inTransaction(ctx, async (tx, emit) => {
    const job = await lockedJob(ctx, tx, jobId);
    await requeueFailed(ctx, tx, emit, job);
  });
}

async function requeueFailed(ctx: EngineContext, tx: Tx, emit: Emit, job: JobRow): Promise<void> {
  if (job.state !== 'FAILED') {
    throw new DroverError('ILLEGAL_TRANSITION', `job ${job.id} is ${job.state}, not FAILED`);
  }
  const failed = await tasksInStates(tx, job.id, ['FAILED']);
  await moveTasks(ctx, tx, emit, job.id, failed, 'resume-failed', { tries: 0 });
  await changeJobState(ctx, tx, emit, job, 'resume-failed');
  await markOutputsOfJobDeleted(tx, job.id, ctx.clock());
}

/**
 * Takes the job away from whichever node holds it and puts it back in the queue as if it
 * had never been started: live executions are withdrawn (no try counted), a FAILED job is
 * queued again, outputs are marked deleted. Ended jobs (COMPLETED, CANCELED) refuse.
 */
export async function withdrawJobWork(ctx: EngineContext, jobId: number): Promise<void> {
  await inTransaction(ctx, async (tx, emit) => {
    const job = await lockedJob(ctx, tx, jobId);
    if (job.state === 'COMPLETED' || job.state === 'CANCELED') {
      throw new DroverError('ILLEGAL_TRANSITION', `job ${jobId} is ${job.state}`);
    }
    if (job.state === 'FAILED') return requeueFailed(ctx, tx, emit, job);
    for (const execution of await liveExecutionsOfJob(tx, jobId)) {
      await endExecution(ctx, tx, emit, execution, 'stop', {
        error_name: null,
        error_message: 'withdrawn by the server',
      });
    }
    const running = await tasksInStates(tx, jobId, ['RUNNING']);
    await moveTasks(ctx, tx, emit, jobId, running, 'retry');
    await markOutputsOfJobDeleted(tx, jobId, ctx.clock());
  });
}

export interface NamedOutput {
  name: string;
  type: string;
  /** The bytes, streamed to the blob store (see addOutput). */
  content: Readable | Uint8Array;
  limit?: number;
}

/**
 * Adds an output named by (name, type) to a job, attached to its task's last execution.
 * A name and type already used — by a deleted output too — is refused: `conflict`.
 */
export async function addNamedOutput(
  ctx: EngineContext,
  jobId: number,
  output: NamedOutput,
): Promise<{ output: OutputRow } | { conflict: OutputRow }> {
  const name = checkOutputName(output.name);
  const limit = output.limit ?? DEFAULT_UPLOAD_LIMIT;
  return withStagedUpload(ctx, output.content, limit, (staged) =>
    inTransaction(ctx, async (tx) => {
      const job = await lockedJob(ctx, tx, jobId);
      const existing = await findOutputByNameAndType(tx, jobId, name, output.type);
      if (existing) return { conflict: existing };
      const task = await onlyTask(tx, job);
      const execution =
        task?.last_execution_id != null
          ? await findExecution(tx, task.last_execution_id)
          : undefined;
      const now = ctx.clock();
      const blobId = await ctx.blobs.commit(tx, staged, now);
      const id = await insertOutput(tx, {
        job_id: jobId,
        execution_id: execution?.id ?? null,
        name,
        type: output.type,
        size: staged.size,
        sha256: staged.sha256,
        blob_id: blobId,
        created_at: now,
      });
      return { output: (await findOutput(tx, id))! };
    }),
  );
}

/** Marks one output deleted (its bytes stay readable by id). */
export async function markOutputRemoved(ctx: EngineContext, outputId: number): Promise<OutputRow> {
  return inTransaction(ctx, async (tx) => {
    await markOutputDeleted(tx, outputId, ctx.clock());
    return (await findOutput(tx, outputId))!;
  });
}

/** Whether an execution is one that still holds its task. */
export const isLive = (state: string | null): boolean =>
  state !== null && LIVE_EXECUTION_STATES.includes(state as ExecutionState);
