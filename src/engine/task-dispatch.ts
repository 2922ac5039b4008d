import { taskStateMachine, type TaskState } from '../domain/task-state.js';
import type { Tx } from '../store/database.js';
import { insertExecution } from '../store/executions.js';
import { claimQueuedTask } from '../store/jobs.js';
import type { ExecutionRow, JobRow, TaskRow } from '../store/schema.js';
import { updateTask } from '../store/tasks.js';
import type { Emit, EngineContext } from './context.js';
import { changeJobState } from './state-changes.js';

/**
 * Hands one QUEUED task to a node: an ACQUIRED execution holding a lease (its id is the
 * fencing token), the task RUNNING, the job RUNNING. The dispatcher does this for the task
 * it chose; a UFDL node does it for the job it named. Callers hold the task's row (locked
 * or, with SQLite, inside the one running transaction).
 */
export async function dispatchTask(
  ctx: EngineContext,
  tx: Tx,
  emit: Emit,
  task: TaskRow,
  nodeId: number,
  leaseMs: number,
): Promise<{ execution: ExecutionRow; job: JobRow }> {
  taskStateMachine.apply(task.state as TaskState, 'dispatch', task.id);
  const now = ctx.clock();
  const job = await claimQueuedTask(tx, task.job_id, now);
  const execution = await insertExecution(tx, {
    job_id: job.id,
    task_id: task.id,
    node_id: nodeId,
    exe_num: job.num_exes,
    state: 'ACQUIRED',
    lease_expires_at: now + leaseMs,
    progress: 0,
    exit_code: null,
    error_name: null,
    error_message: null,
    timed_out: 0,
    log_lines: 0,
    created_at: now,
    started_at: null,
    ended_at: null,
    last_heartbeat: now,
    last_modified: now,
  });
  await updateTask(tx, task.id, {
    state: 'RUNNING',
    node_id: nodeId,
    last_execution_id: execution.id,
    progress: 0,
    started_at: now,
    ended_at: null,
    last_status_change: now,
    last_modified: now,
  });
  emit({
    type: 'task.state',
    jobId: job.id,
    taskIds: [task.id],
    count: 1,
    from: 'QUEUED',
    to: 'RUNNING',
  });
  const current = job.state === 'QUEUED' ? await changeJobState(ctx, tx, emit, job, 'start') : job;
  emit({
    type: 'execution.state',
    jobId: job.id,
    taskId: task.id,
    executionId: execution.id,
    nodeId,
    from: null,
    to: 'ACQUIRED',
  });
  return { execution, job: current };
}
