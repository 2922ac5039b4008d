import { taskStateMachine, type TaskState } from '../../domain/task-state.js';
import type { Tx } from '../../store/database.js';
import { setExecutionGpus } from '../../store/node-capacity.js';
import type { ExecutionRow, JobRow, TaskRow } from '../../store/schema.js';
import { claimTasks } from '../../store/task-claims.js';
import type { Emit, EngineContext } from '../context.js';
import { changeJobState, emitExecutionMoved, emitTasksMoved } from '../state-changes.js';

/** One task handed to a node, with the rows its work order is made of. */
export interface Dispatched {
  execution: ExecutionRow;
  task: TaskRow;
}

/**
 * Hands QUEUED tasks of one job to a node: an execution per task holding a lease (its id is
 * the fencing token), the tasks RUNNING, the job RUNNING. With `start`, the executions are
 * RUNNING at once, so a node that starts its command straight away saves a call per task.
 *
 * The job's counters move once for the whole batch, with the other writes of the claim
 * (claimTasks: one statement on PostgreSQL): that update holds the job's row lock until
 * commit, and every other claim on the job waits for it, so a batch of ten pays that wait
 * once instead of ten times. Callers hold the tasks' rows (locked, or inside SQLite's one
 * running transaction).
 */
export async function dispatchTasks(
  ctx: EngineContext,
  tx: Tx,
  emit: Emit,
  jobId: number,
  tasks: readonly TaskRow[],
  nodeId: number,
  options: { leaseMs: number; start?: boolean; skipLockedJob?: boolean },
): Promise<{ dispatched: Dispatched[]; job: JobRow } | undefined> {
  for (const task of tasks) taskStateMachine.apply(task.state as TaskState, 'dispatch', task.id);
  const now = ctx.clock();
  const claim = await claimTasks(tx, ctx.dialect, {
    jobId,
    taskIds: tasks.map((t) => t.id),
    nodeId,
    state: options.start ? 'RUNNING' : 'ACQUIRED',
    leaseExpiresAt: now + options.leaseMs,
    now,
    skipLockedJob: options.skipLockedJob ?? false,
  });
  if (!claim) return undefined;
  const { executions, job: claimed } = claim;
  emitTasksMoved(
    emit,
    jobId,
    tasks.map((t) => t.id),
    'QUEUED',
    'RUNNING',
  );
  const job =
    claimed.state === 'QUEUED' ? await changeJobState(ctx, tx, emit, claimed, 'start') : claimed;
  const dispatched = tasks.map((task, i) => {
    const execution = executions[i]!;
    emitClaimed(emit, execution, options.start ?? false);
    return { execution, task: runningTask(task, nodeId, now, execution.id) };
  });
  return { dispatched, job };
}

/** The events of an execution a claim made: ACQUIRED, and RUNNING when the claim starts it. */
export function emitClaimed(emit: Emit, execution: ExecutionRow, started: boolean): void {
  emitExecutionMoved(emit, execution, null, 'ACQUIRED');
  if (started) emitExecutionMoved(emit, execution, 'ACQUIRED', 'RUNNING');
}

/** A task's row as a claim leaves it: RUNNING on the node, pointing at its execution. */
export function runningTask(
  task: TaskRow,
  nodeId: number,
  now: number,
  executionId: number,
): TaskRow {
  return {
    ...task,
    state: 'RUNNING',
    node_id: nodeId,
    progress: 0,
    started_at: now,
    ended_at: null,
    last_status_change: now,
    last_modified: now,
    last_execution_id: executionId,
  };
}

/** One task: the dispatcher's single claim, and a UFDL node's claim of the job it named. */
export async function dispatchTask(
  ctx: EngineContext,
  tx: Tx,
  emit: Emit,
  task: TaskRow,
  nodeId: number,
  leaseMs: number,
): Promise<{ execution: ExecutionRow; job: JobRow }> {
  const claimed = await dispatchTasks(ctx, tx, emit, task.job_id, [task], nodeId, { leaseMs });
  // Without skipLockedJob the claim waits for the job's row, and always takes the task.
  return { execution: claimed!.dispatched[0]!.execution, job: claimed!.job };
}

/**
 * SQLite: each task of a claim its own GPU indexes, in order from those free; the room the
 * claim counted guarantees there are enough. PostgreSQL gives them inside drover_claim.
 */
export async function giveGpus(
  tx: Tx,
  dispatched: readonly Dispatched[],
  free: readonly number[],
  perTask: number,
): Promise<void> {
  for (const [i, { execution }] of dispatched.entries()) {
    const ids = free.slice(i * perTask, (i + 1) * perTask).join(',');
    await setExecutionGpus(tx, execution.id, ids);
    execution.gpu_ids = ids;
  }
}
