import { DroverError, notFound } from '../../domain/errors.js';
import {
  executionStateMachine,
  LIVE_EXECUTION_STATES,
  type ExecutionState,
} from '../../domain/execution-state.js';
import { usageColumns, type ExecutionUsage } from '../../domain/execution-usage.js';
import { taskStateMachine } from '../../domain/task-state.js';
import type { Tx } from '../../store/database.js';
import { lockExecutions } from '../../store/executions.js';
import { manifestOfJob } from '../../store/job-types.js';
import type { ExecutionRow } from '../../store/schema.js';
import {
  completeExecutionsOfJob,
  completeLiveExecutionsLeavingCounters,
  type CompletedExecution,
} from '../../store/task-completions.js';
import type { Emit, EngineContext } from '../context.js';
import type { LaneEnd } from '../dispatch/lane-end.js';
import { readOnce } from '../dispatch/read-once.js';
import { writeLane, type LaneKind } from '../dispatch/write-lane.js';
import { declaredOutputs } from '../outputs/declared-outputs.js';
import type { EngineSettings } from '../settings.js';
import { emitExecutionMoved, emitTasksMoved } from '../state-changes.js';
import { settleFreshJob } from '../tasks/task-actions.js';
import { failExecution, type Failure } from './execution-failures.js';
import {
  completeExecution,
  completeIn,
  failReportedExecution,
  guard,
} from './execution-reports.js';
import { repeatedFinish } from './finish-repeats.js';

/** What a node reports about one execution it ran. */
export interface FinishReport {
  executionId: number;
  success: boolean;
  exitCode?: number | null;
  /** With success: false. */
  failure?: Failure;
  timedOut?: boolean;
  /** What the node measured of the command (CPU, wall, peak memory, GPU). */
  usage?: ExecutionUsage;
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
 * Finish calls one transaction takes: with MAX_FINISHES reports each, its statements bind
 * at most 2,000 ids, inside SQLite's limit of 32,766 variables.
 */
const MAX_FINISH_CALLS_PER_TRANSACTION = 20;

/** One report and the node that sent it (undefined: a caller that names no node). */
interface NodeReport {
  nodeId: number | undefined;
  report: FinishReport;
}

/**
 * A report's fate: recorded (with the execution's row as it now is, where the write knows
 * it), or refused with the error a lone finish would throw.
 */
type Outcome = { ok: true; execution?: ExecutionRow } | { refused: DroverError };

/**
 * Finish calls that arrive together, from any nodes, share one transaction with the claims
 * and starts of the moment (the engine's WriteLane): one commit and one round of events for
 * the lot. In the single-task protocol a lone finish cost 6 statements of its own on
 * PostgreSQL (begin, lock, manifest, write, read, commit); grouped, the lock, the write and
 * the commit are shared by the group.
 */
const FINISHES: LaneKind<readonly NodeReport[], Outcome[]> = {
  order: 0,
  max: MAX_FINISH_CALLS_PER_TRANSACTION,
  write: (ctx, settings, tx, emit, calls, end) => finishIn(ctx, tx, emit, settings, calls, end),
  alone: finishCallAlone,
};

/**
 * Records several finishes of one node, in one transaction with the finishes that other
 * calls sent meanwhile. A report whose lease is gone is refused on its own (409) without
 * failing the others.
 */
export async function finishExecutions(
  ctx: EngineContext,
  settings: EngineSettings,
  nodeId: number,
  reports: readonly FinishReport[],
): Promise<FinishResult[]> {
  const outcomes = await writeLane(ctx, settings).submit(
    FINISHES,
    reports.map((report) => ({ nodeId, report })),
  );
  return outcomes.map((o, i) => {
    const executionId = reports[i]!.executionId;
    return 'refused' in o ? answer(executionId, o.refused) : { executionId, status: 200 };
  });
}

/**
 * One finish call: grouped with the others of the moment, answered as if it were alone.
 * Answers the execution's row as it now is when the write knew it (the common success),
 * so that the caller need not read it again. A repeat of a finish already recorded is
 * answered with the row too (finish-repeats.ts).
 */
export async function finishExecution(
  ctx: EngineContext,
  settings: EngineSettings,
  nodeId: number | undefined,
  report: FinishReport,
): Promise<ExecutionRow | undefined> {
  const [outcome] = await writeLane(ctx, settings).submit(FINISHES, [{ nodeId, report }]);
  if (!outcome) return undefined;
  if ('refused' in outcome) {
    const repeated = await repeatedFinish(ctx, nodeId, report, outcome.refused);
    if (repeated) return repeated;
    throw outcome.refused;
  }
  return outcome.execution;
}

/**
 * Should recording any report throw (an unknown error name, a lost connection), the group's
 * transaction is undone and each call is recorded again, each report in its own
 * transaction, so each gets the answer it would have had alone; a call whose report throws
 * anything but a refusal fails alone.
 */
async function finishCallAlone(
  ctx: EngineContext,
  settings: EngineSettings,
  call: readonly NodeReport[],
): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  for (const { nodeId, report } of call) {
    outcomes.push(await finishAlone(ctx, settings, nodeId, report));
  }
  return outcomes;
}

/** One finish in its own transaction. */
async function finishAlone(
  ctx: EngineContext,
  settings: EngineSettings,
  nodeId: number | undefined,
  r: FinishReport,
): Promise<Outcome> {
  try {
    if (r.success) {
      await completeExecution(ctx, settings, r.executionId, nodeId, exitCodeOf(r), {
        timedOut: r.timedOut ?? false,
        usage: r.usage,
      });
    } else {
      await failReportedExecution(ctx, r.executionId, nodeId, failureOf(r));
    }
    return { ok: true };
  } catch (error) {
    if (error instanceof DroverError) return { refused: error };
    throw error;
  }
}

interface Fast {
  call: number;
  index: number;
  report: FinishReport;
  execution: ExecutionRow;
}

interface Slow {
  call: number;
  index: number;
  nodeId: number | undefined;
  report: FinishReport;
}

/** A node's first report of an execution in the group, a success: the fast path may take it. */
interface Candidate extends Slow {
  nodeId: number;
}

/**
 * The common case, successes of live executions of jobs without a Seed manifest, is
 * recorded per job in a few statements whatever the number of finishes: 8 statements for
 * ten finishes of one job, where one finish at a time took about 9 each. Those go first.
 * Everything else (failures, stale tokens, Seed outputs to check, a second call's report of
 * the same execution) then takes the one-report path, which reads its execution again,
 * since a failure may end other executions of its job.
 */
async function finishIn(
  ctx: EngineContext,
  tx: Tx,
  emit: Emit,
  settings: EngineSettings,
  calls: (readonly NodeReport[])[],
  end: LaneEnd,
): Promise<Outcome[][]> {
  const now = ctx.clock();
  const outcomes: Outcome[][] = calls.map(() => []);
  const candidates: Candidate[] = [];
  const slow: Slow[] = [];
  /** The call that first reported each execution. */
  const firstCall = new Map<number, number>();
  for (const [call, reports] of calls.entries()) {
    for (const [index, { nodeId, report }] of reports.entries()) {
      const id = report.executionId;
      const first = firstCall.get(id);
      if (first === call) {
        outcomes[call]![index] = {
          refused: new DroverError('STALE_LEASE', `execution ${id} is reported twice in one batch`),
        };
      } else if (first === undefined && report.success && nodeId !== undefined) {
        candidates.push({ call, index, nodeId, report });
      } else {
        slow.push({ call, index, nodeId, report });
      }
      if (first === undefined) firstCall.set(id, call);
    }
  }
  const fastIn = ctx.dialect === 'postgres' ? completeFastInPostgres : completeFastInSqlite;
  const done = await fastIn(ctx, tx, emit, candidates, now, end);
  for (const c of candidates) {
    const execution = done.get(c.report.executionId);
    if (execution) outcomes[c.call]![c.index] = { ok: true, execution };
    else slow.push(c);
  }
  if (slow.length === 0) return outcomes;
  slow.sort((a, b) => a.call - b.call || a.index - b.index);
  // A failure reads its job's counters and may end the job: they must be whole first.
  await end.flush(tx);
  const found = new Set(
    (
      await lockExecutions(tx, ctx.dialect, [...new Set(slow.map((s) => s.report.executionId))])
    ).map((e) => e.id),
  );
  for (const { call, index, nodeId, report } of slow) {
    outcomes[call]![index] = found.has(report.executionId)
      ? await finishOne(ctx, tx, emit, settings, nodeId, report)
      : { refused: notFound('execution', report.executionId) };
  }
  return outcomes;
}

/** The fast path's executions, by id, as they now are; the rest take the one-report path. */
type FastPath = (
  ctx: EngineContext,
  tx: Tx,
  emit: Emit,
  candidates: readonly Candidate[],
  now: number,
  end: LaneEnd,
) => Promise<Map<number, ExecutionRow>>;

/**
 * PostgreSQL: one statement tests, locks and completes them all
 * (completeLiveExecutionsLeavingCounters), and the jobs' counters move at the lane's end.
 */
const completeFastInPostgres: FastPath = async (ctx, tx, emit, candidates, now, end) => {
  const completed = await completeLiveExecutionsLeavingCounters(
    tx,
    candidates.map(({ nodeId, report }) => ({
      executionId: report.executionId,
      nodeId,
      exitCode: exitCodeOf(report),
      timedOut: report.timedOut ?? false,
      usage: usageColumns(report.usage),
    })),
    now,
  );
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
    end.completed(jobId, taskIds.length, (job) =>
      settleFreshJob(ctx, tx, emit, job, undefined, taskIds),
    );
  }
  return new Map(completed.map((c) => [c.execution.id, c.execution]));
};

/** SQLite: the rows read first, tested here, and written per job. */
const completeFastInSqlite: FastPath = async (ctx, tx, emit, candidates, now) => {
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
  for (const jobId of [...fast.keys()].sort((a, b) => a - b)) {
    const items = fast.get(jobId)!;
    // Seed jobs and jobs with declared outputs have their outputs judged one by one.
    if ((await hasManifest(ctx, tx, jobId)) || (await declaredOutputs(ctx, tx, jobId)).length > 0) {
      continue;
    }
    const completed = await completeMany(ctx, tx, emit, jobId, items, now);
    items.forEach((item, i) => done.set(item.execution.id, completed[i]!));
  }
  return done;
};

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
  nodeId: number | undefined,
  r: FinishReport,
): Promise<Outcome> {
  const checked = await guard(ctx, tx, emit, r.executionId, nodeId);
  if ('refused' in checked) return checked;
  if (r.success) {
    await completeIn(ctx, tx, emit, settings, checked.ok, exitCodeOf(r), {
      timedOut: r.timedOut ?? false,
      usage: r.usage,
    });
  } else {
    await failExecution(ctx, tx, emit, checked.ok, 'fail', failureOf(r));
  }
  return { ok: true };
}

/** SQLite: successes of one job's live executions, the same changes as completeIn, batched. */
async function completeMany(
  ctx: EngineContext,
  tx: Tx,
  emit: Emit,
  jobId: number,
  items: readonly Fast[],
  now: number,
): Promise<ExecutionRow[]> {
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
  await settleFreshJob(ctx, tx, emit, done.job, undefined, done.taskIds);
  // The rows as completeExecutionsOfJob wrote them, from the rows locked before it.
  return items.map(({ execution }, i) => ({
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
}

/**
 * A command killed at its timeout (COMPLETE) reports no exit code; none is recorded. (An
 * explicit null arrives as 0: the API schema's type coercion turns it so.)
 */
function exitCodeOf(r: FinishReport): number | null {
  return r.exitCode !== undefined ? r.exitCode : r.timedOut ? null : 0;
}

function failureOf(r: FinishReport): Failure {
  return {
    ...r.failure,
    exitCode: r.exitCode ?? null,
    timedOut: r.timedOut ?? false,
    ...(r.usage ? { usage: r.usage } : {}),
  };
}

function answer(executionId: number, error: DroverError): FinishResult {
  return { executionId, status: error.status, code: error.code, message: error.message };
}
