import {
  executionStateMachine,
  LIVE_EXECUTION_STATES,
  type ExecutionState,
} from '../../domain/execution-state.js';
import { usageColumns } from '../../domain/execution-usage.js';
import { taskStateMachine } from '../../domain/task-state.js';
import type { Tx } from '../../store/database.js';
import { lockExecutions } from '../../store/executions.js';
import type { ExecutionRow, JobRow } from '../../store/schema.js';
import {
  completeExecutionsOfJob,
  completeLiveExecutionsLeavingCounters,
  type CompletedExecution,
} from '../../store/task-completions.js';
import type { Emit, EngineContext } from '../context.js';
import type { LaneEnd } from '../dispatch/lane-end.js';
import { jobsJudgingOutputs } from '../outputs/declared-outputs.js';
import { emitExecutionMoved, emitTasksMoved } from '../state-changes.js';
import { settleFreshJobs } from '../tasks/task-actions.js';
import type { FinishReport } from './execution-batches.js';

/*
 * The finish fast path: successes of live executions of jobs whose outputs need no judging,
 * recorded per job in a few statements (execution-batches.ts sends the rest one by one).
 */
export interface Fast {
  call: number;
  index: number;
  report: FinishReport;
  execution: ExecutionRow;
}

export interface Slow {
  call: number;
  index: number;
  nodeId: number | undefined;
  report: FinishReport;
}

/** A node's first report of an execution in the group, a success: the fast path may take it. */
export interface Candidate extends Slow {
  nodeId: number;
}

/** The fast path's executions, by id, as they now are; the rest take the one-report path. */
export type FastPath = (
  ctx: EngineContext,
  tx: Tx,
  emit: Emit,
  candidates: readonly Candidate[],
  now: number,
  end: LaneEnd,
  /**
   * No report of the group waits for the one-report path: PostgreSQL writes these in the
   * lane's statement, with its claims.
   */
  inLaneStatement: boolean,
) => Promise<Map<number, ExecutionRow>>;

/**
 * PostgreSQL: one statement tests, locks and completes them all
 * (completeLiveExecutionsLeavingCounters), and the jobs' counters move at the lane's end.
 * When no report of the group waits for the one-report path, that statement is the lane's
 * own (LaneEnd.run), which moves the counters and takes the transaction's claims too: one
 * round trip instead of two. A report waiting for the one-report path (a failure) goes
 * before the claims, which then see the slot and the task it frees.
 */
export const completeFastInPostgres: FastPath = async (
  ctx,
  tx,
  emit,
  candidates,
  now,
  end,
  inLaneStatement,
) => {
  const completions = candidates.map(({ nodeId, report }) => ({
    executionId: report.executionId,
    nodeId,
    exitCode: exitCodeOf(report),
    timedOut: report.timedOut ?? false,
    usage: usageColumns(report.usage),
  }));
  const completed = inLaneStatement
    ? (await end.run(completions)).finished
    : await completeLiveExecutionsLeavingCounters(tx, completions, now);
  const byJob = new Map<number, CompletedExecution[]>();
  for (const c of completed) {
    const of = byJob.get(c.execution.job_id) ?? [];
    of.push(c);
    byJob.set(c.execution.job_id, of);
  }
  for (const [jobId, executions] of [...byJob].sort(([a], [b]) => a - b)) {
    taskStateMachine.apply('RUNNING', 'complete');
    for (const { execution, was } of executions) {
      if (was === 'ACQUIRED') executionStateMachine.apply(was, 'start', execution.id);
      executionStateMachine.apply('RUNNING', 'complete', execution.id);
      if (was === 'ACQUIRED') emitExecutionMoved(emit, execution, 'ACQUIRED', 'RUNNING');
      emitExecutionMoved(emit, execution, 'RUNNING', 'COMPLETED');
    }
    const taskIds = executions
      .filter((e) => e.taskMoved)
      .map((e) => e.execution.task_id)
      .sort((a, b) => a - b);
    emitTasksMoved(emit, jobId, taskIds, 'RUNNING', 'COMPLETED');
    // The lane's statement moved their counters itself.
    if (!inLaneStatement) end.completed(jobId, taskIds);
  }
  return new Map(completed.map((c) => [c.execution.id, c.execution]));
};

/** SQLite: the rows read first, tested here, and written per job. */
export const completeFastInSqlite: FastPath = async (ctx, tx, emit, candidates, now) => {
  const ids = candidates.map((c) => c.report.executionId);
  const rows = new Map((await lockExecutions(tx, ctx.dialect, ids)).map((e) => [e.id, e]));
  const fast = new Map<number, Fast[]>();
  for (const { call, index, nodeId, report } of candidates) {
    const execution = rows.get(report.executionId);
    if (
      execution &&
      execution.node_id === nodeId &&
      LIVE_EXECUTION_STATES.includes(execution.state as ExecutionState) &&
      execution.lease_expires_at >= now
    ) {
      const items = fast.get(execution.job_id) ?? [];
      items.push({ call, index, report, execution });
      fast.set(execution.job_id, items);
    }
  }
  const done = new Map<number, ExecutionRow>();
  const fresh: { job: JobRow; done: readonly number[] }[] = [];
  // Seed jobs and jobs with declared outputs have their outputs judged one by one.
  const judged = await jobsJudgingOutputs(ctx, tx, [...fast.keys()]);
  for (const jobId of [...fast.keys()].sort((a, b) => a - b)) {
    const items = fast.get(jobId)!;
    if (judged.has(jobId)) continue;
    const completed = await completeMany(ctx, tx, emit, jobId, items, now);
    items.forEach((item, i) => done.set(item.execution.id, completed.rows[i]!));
    fresh.push({ job: completed.job, done: completed.taskIds });
  }
  // The jobs that finish end together, as the PostgreSQL lane's do (LaneEnd).
  await settleFreshJobs(ctx, tx, emit, fresh);
  return done;
};

/** SQLite: successes of one job's live executions, the same changes as completeIn, batched. */
async function completeMany(
  ctx: EngineContext,
  tx: Tx,
  emit: Emit,
  jobId: number,
  items: readonly Fast[],
  now: number,
): Promise<{ rows: ExecutionRow[]; job: JobRow; taskIds: number[] }> {
  taskStateMachine.apply('RUNNING', 'complete');
  const completions = items.map(({ report, execution }) => {
    const from = execution.state as ExecutionState;
    if (from === 'ACQUIRED') executionStateMachine.apply(from, 'start', execution.id);
    executionStateMachine.apply('RUNNING', 'complete', execution.id);
    return {
      executionId: execution.id,
      taskId: execution.task_id,
      exitCode: exitCodeOf(report),
      // A NOTIFY execution flagged while it ran stays flagged.
      timedOut: report.timedOut ? 1 : execution.timed_out,
      usage: usageColumns(report.usage),
    };
  });
  // The job's row is written last, so the row lock every finish and claim of this job
  // queues on is held for as short a time as can be (on PostgreSQL, where that lock
  // matters, the lane moves it at its end: completeFastInPostgres).
  const done = await completeExecutionsOfJob(tx, ctx.dialect, jobId, completions, now);
  for (const { execution } of items) {
    if (execution.state === 'ACQUIRED') emitExecutionMoved(emit, execution, 'ACQUIRED', 'RUNNING');
    emitExecutionMoved(emit, execution, 'RUNNING', 'COMPLETED');
  }
  emitTasksMoved(emit, jobId, done.taskIds, 'RUNNING', 'COMPLETED');
  // The rows as completeExecutionsOfJob wrote them, from the rows locked before it; the job
  // is settled by the caller, with the others of the transaction.
  const rows = items.map(({ execution }, i) => ({
    ...execution,
    state: 'COMPLETED',
    progress: 100,
    exit_code: completions[i]!.exitCode,
    timed_out: completions[i]!.timedOut,
    ...completions[i]!.usage,
    started_at: execution.started_at ?? now,
    ended_at: now,
    last_heartbeat: now,
    last_modified: now,
  }));
  return { rows, job: done.job, taskIds: done.taskIds };
}

/**
 * A command killed at its timeout (COMPLETE) reports no exit code; none is recorded. (An
 * explicit null arrives as 0: the API schema's type coercion turns it so.)
 */
export function exitCodeOf(r: FinishReport): number | null {
  return r.exitCode !== undefined ? r.exitCode : r.timedOut ? null : 0;
}
