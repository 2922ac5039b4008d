import { DroverError, notFound } from '../domain/errors.js';
import {
  executionStateMachine,
  LIVE_EXECUTION_STATES,
  type ExecutionState,
} from '../domain/execution-state.js';
import { taskStateMachine } from '../domain/task-state.js';
import type { Tx } from '../store/database.js';
import { lockExecutions } from '../store/executions.js';
import { manifestOfJob } from '../store/job-types.js';
import type { ExecutionRow } from '../store/schema.js';
import { completeExecutionsOfJob } from '../store/task-completions.js';
import { inTransaction, type Emit, type EngineContext } from './context.js';
import type { Failure } from './execution-reports.js';
import {
  completeExecution,
  completeIn,
  failExecution,
  failReportedExecution,
  guard,
} from './execution-reports.js';
import { readOnce } from './read-once.js';
import type { EngineSettings } from './settings.js';
import { emitExecutionMoved, emitTasksMoved } from './state-changes.js';
import { settleFreshJob } from './task-actions.js';

/** What a node reports about one execution it ran. */
export interface FinishReport {
  executionId: number;
  success: boolean;
  exitCode?: number | null;
  /** With success: false. */
  failure?: Failure;
  timedOut?: boolean;
}

/** Each report's fate: 200 recorded, 409 refused (the lease is gone), 404, or 400. */
export interface FinishResult {
  executionId: number;
  status: number;
  code?: string;
  message?: string;
}

/** The most reports one call may carry. */
export const MAX_FINISHES = 100;

/**
 * Records several finishes of one node in one transaction: one commit (one fsync) and one
 * round of events for the lot, where one call per finish paid them each. A report whose
 * lease is gone is refused on its own (409) without failing the others. Should recording
 * any report throw (an unknown error name, an execution that does not exist), the whole
 * transaction is undone and each report is recorded again in its own transaction, so each
 * gets the answer it would have had alone.
 */
export async function finishExecutions(
  ctx: EngineContext,
  settings: EngineSettings,
  nodeId: number,
  reports: readonly FinishReport[],
): Promise<FinishResult[]> {
  try {
    return await inTransaction(ctx, (tx, emit) =>
      finishIn(ctx, tx, emit, settings, nodeId, reports),
    );
  } catch {
    const results: FinishResult[] = [];
    for (const r of reports) {
      try {
        await finishExecution(ctx, settings, nodeId, r);
        results.push({ executionId: r.executionId, status: 200 });
      } catch (error) {
        if (!(error instanceof DroverError)) throw error;
        results.push(answer(r.executionId, error));
      }
    }
    return results;
  }
}

/** One finish in its own transaction: a lone finish call, or a batch redone item by item. */
export async function finishExecution(
  ctx: EngineContext,
  settings: EngineSettings,
  nodeId: number | undefined,
  r: FinishReport,
): Promise<void> {
  if (r.success) {
    await completeExecution(ctx, settings, r.executionId, nodeId, exitCodeOf(r), {
      timedOut: r.timedOut ?? false,
    });
  } else {
    await failReportedExecution(ctx, r.executionId, nodeId, failureOf(r));
  }
}

interface Fast {
  index: number;
  report: FinishReport;
  execution: ExecutionRow;
}

/**
 * The common case, successes of live executions of jobs without a Seed manifest, is
 * recorded per job in a few statements whatever the batch size: 8 statements for ten
 * finishes of one job, where one finish at a time took about 9 each. Everything else
 * (failures, stale tokens, Seed outputs to check) goes through the one-report path.
 */
async function finishIn(
  ctx: EngineContext,
  tx: Tx,
  emit: Emit,
  settings: EngineSettings,
  nodeId: number,
  reports: readonly FinishReport[],
): Promise<FinishResult[]> {
  const now = ctx.clock();
  const ids = [...new Set(reports.map((r) => r.executionId))];
  const rows = new Map((await lockExecutions(tx, ctx.dialect, ids)).map((e) => [e.id, e]));
  const results: FinishResult[] = [];
  const fast = new Map<number, Fast[]>();
  const seen = new Set<number>();
  for (const [index, report] of reports.entries()) {
    const id = report.executionId;
    if (seen.has(id)) {
      results[index] = answer(
        id,
        new DroverError('STALE_LEASE', `execution ${id} is reported twice in one batch`),
      );
      continue;
    }
    seen.add(id);
    const execution = rows.get(id);
    if (!execution) {
      results[index] = answer(id, notFound('execution', id));
      continue;
    }
    if (
      report.success &&
      execution.node_id === nodeId &&
      LIVE_EXECUTION_STATES.includes(execution.state as ExecutionState) &&
      execution.lease_expires_at >= now
    ) {
      fast.set(execution.job_id, [
        ...(fast.get(execution.job_id) ?? []),
        { index, report, execution },
      ]);
    } else {
      results[index] = await finishOne(ctx, tx, emit, settings, nodeId, report);
    }
  }
  // Jobs in id order: two batches that lock the same jobs lock them in the same order.
  for (const jobId of [...fast.keys()].sort((a, b) => a - b)) {
    const items = fast.get(jobId)!;
    if (await hasManifest(ctx, tx, jobId)) {
      for (const item of items) {
        results[item.index] = await finishOne(ctx, tx, emit, settings, nodeId, item.report);
      }
      continue;
    }
    await completeMany(ctx, tx, emit, jobId, items, now);
    for (const item of items) results[item.index] = { executionId: item.execution.id, status: 200 };
  }
  return results;
}

/** Whether each job has a Seed manifest, per engine: a job's revision never changes. */
const manifests = new WeakMap<EngineContext, Map<number, boolean>>();

async function hasManifest(ctx: EngineContext, tx: Tx, jobId: number): Promise<boolean> {
  let cache = manifests.get(ctx);
  if (!cache) manifests.set(ctx, (cache = new Map()));
  return (await readOnce(cache, jobId, async () => (await manifestOfJob(tx, jobId)) !== null))!;
}

/** One report, as a lone finish call would record it; a refusal is its answer. */
async function finishOne(
  ctx: EngineContext,
  tx: Tx,
  emit: Emit,
  settings: EngineSettings,
  nodeId: number,
  r: FinishReport,
): Promise<FinishResult> {
  const checked = await guard(ctx, tx, emit, r.executionId, nodeId);
  if ('refused' in checked) return answer(r.executionId, checked.refused);
  if (r.success) {
    await completeIn(ctx, tx, emit, settings, checked.ok, exitCodeOf(r), {
      timedOut: r.timedOut ?? false,
    });
  } else {
    await failExecution(ctx, tx, emit, checked.ok, 'fail', failureOf(r));
  }
  return { executionId: r.executionId, status: 200 };
}

/** Successes of one job's live executions: the same changes as completeIn, batched. */
async function completeMany(
  ctx: EngineContext,
  tx: Tx,
  emit: Emit,
  jobId: number,
  items: readonly Fast[],
  now: number,
): Promise<void> {
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
    };
  });
  // The job's row is written last (one statement for everything on PostgreSQL), so the row
  // lock every finish and claim of this job queues on is held for that statement and the
  // commit. Taken first, as it once was, it serialised whole transactions: in
  // bench/dispatch.ts (PostgreSQL, batched) most backends were found waiting on
  // `select … from jobs … for update`.
  const { job, taskIds } = await completeExecutionsOfJob(tx, ctx.dialect, jobId, completions, now);
  for (const { execution } of items) {
    if (execution.state === 'ACQUIRED') emitExecutionMoved(emit, execution, 'ACQUIRED', 'RUNNING');
    emitExecutionMoved(emit, execution, 'RUNNING', 'COMPLETED');
  }
  emitTasksMoved(emit, jobId, taskIds, 'RUNNING', 'COMPLETED');
  await settleFreshJob(ctx, tx, emit, job);
}

/**
 * A command killed at its timeout (COMPLETE) reports no exit code; none is recorded. (An
 * explicit null arrives as 0: the API schema's type coercion turns it so.)
 */
function exitCodeOf(r: FinishReport): number | null {
  return r.exitCode !== undefined ? r.exitCode : r.timedOut ? null : 0;
}

function failureOf(r: FinishReport): Failure {
  return { ...r.failure, exitCode: r.exitCode ?? null, timedOut: r.timedOut ?? false };
}

function answer(executionId: number, error: DroverError): FinishResult {
  return { executionId, status: error.status, code: error.code, message: error.message };
}
