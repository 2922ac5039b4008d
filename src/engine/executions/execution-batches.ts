import { DroverError, notFound } from '../../domain/errors.js';
import type { ExecutionUsage } from '../../domain/execution-usage.js';
import type { Tx } from '../../store/database.js';
import { lockExecutions } from '../../store/executions.js';
import type { ExecutionRow } from '../../store/schema.js';
import type { Emit, EngineContext } from '../context.js';
import type { LaneEnd } from '../dispatch/lane-end.js';
import { writeLane, type LaneKind } from '../dispatch/write-lane.js';
import type { EngineSettings } from '../settings.js';
import { failExecution, type Failure } from './execution-failures.js';
import {
  completeExecution,
  completeIn,
  failReportedExecution,
  guard,
} from './execution-reports.js';
import {
  completeFastInPostgres,
  completeFastInSqlite,
  exitCodeOf,
  type Candidate,
  type Slow,
} from './finish-fast-paths.js';
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
  const done =
    candidates.length === 0
      ? new Map<number, ExecutionRow>()
      : await fastIn(ctx, tx, emit, candidates, now, end, slow.length === 0);
  for (const c of candidates) {
    const execution = done.get(c.report.executionId);
    if (execution) outcomes[c.call]![c.index] = { ok: true, execution };
    else slow.push(c);
  }
  if (slow.length === 0) return outcomes;
  slow.sort((a, b) => a.call - b.call || a.index - b.index);
  // A failure reads its job's counters and may end the job: they must be whole first.
  await end.flush();
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
