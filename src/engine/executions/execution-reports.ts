import { DroverError, notFound } from '../../domain/errors.js';
import {
  executionStateMachine,
  LIVE_EXECUTION_STATES,
  type ExecutionState,
} from '../../domain/execution-state.js';
import { usageColumns, type ExecutionUsage } from '../../domain/execution-usage.js';
import type { Db, Executor, Tx } from '../../store/database.js';
import { lockExecution, startAcquiredExecutions, updateExecution } from '../../store/executions.js';
import type { ExecutionRow } from '../../store/schema.js';
import { completeExecutionsOfJob } from '../../store/task-completions.js';
import { findTask } from '../../store/tasks.js';
import { inTransaction, pendingEvents, type Emit, type EngineContext } from '../context.js';
import { GroupCommit } from '../dispatch/group-commit.js';
import { HeldConnection } from '../dispatch/held-connection.js';
import { writeLane, type LaneKind } from '../dispatch/write-lane.js';
import { settleOutputs } from '../job-types/job-definition-formats.js';
import { lockedJob } from '../jobs/job-actions.js';
import { checkDeclaredOutputs } from '../outputs/declared-outputs.js';
import type { EngineSettings } from '../settings.js';
import { emitExecutionMoved, emitTasksMoved, endExecution, moveTasks } from '../state-changes.js';
import { settleFreshJob } from '../tasks/task-actions.js';
import { failExecution, type Failure } from './execution-failures.js';

/*
 * What a node reports about an execution it holds. The execution id is the fencing token:
 * a report about an execution that is no longer live, belongs to another node, or whose
 * lease ran out is refused with 409 and changes nothing — except that an expired lease is
 * reaped on the spot, so the task goes back to the queue at once.
 */

export type Guarded<T> = { ok: T } | { refused: DroverError };

export async function guard(
  ctx: EngineContext,
  tx: Tx,
  emit: Emit,
  executionId: number,
  nodeId: number | undefined,
): Promise<Guarded<ExecutionRow>> {
  const execution = await lockExecution(tx, ctx.dialect, executionId);
  if (!execution) throw notFound('execution', executionId);
  if (nodeId !== undefined && execution.node_id !== nodeId) {
    return stale(`execution ${executionId} is held by node ${execution.node_id}, not ${nodeId}`);
  }
  if (!LIVE_EXECUTION_STATES.includes(execution.state as ExecutionState)) {
    return stale(`execution ${executionId} is ${execution.state}; stop working on it`);
  }
  if (execution.lease_expires_at < ctx.clock()) {
    await failExecution(ctx, tx, emit, execution, 'lose', {
      errorName: 'node-lost',
      message: 'the lease expired before the node reported',
    });
    return stale(`the lease of execution ${executionId} expired; its task went back to the queue`);
  }
  return { ok: execution };
}

function stale(message: string): { refused: DroverError } {
  return { refused: new DroverError('STALE_LEASE', message) };
}

/** Runs a guarded report; a refusal is thrown only after the transaction commits. */
async function report<T>(
  ctx: EngineContext,
  executionId: number,
  nodeId: number | undefined,
  work: (tx: Tx, emit: Emit, execution: ExecutionRow) => Promise<T>,
): Promise<T> {
  const result: Guarded<T> = await inTransaction(ctx, async (tx, emit) => {
    const checked = await guard(ctx, tx, emit, executionId, nodeId);
    if ('refused' in checked) return checked;
    return { ok: await work(tx, emit, checked.ok) };
  });
  if ('refused' in result) throw result.refused;
  return result.ok;
}

/** A start call, and who sent it (undefined: a caller that names no node). */
interface StartCall {
  executionId: number;
  nodeId: number | undefined;
}

/**
 * Start calls that arrive together, from any nodes, share one transaction and one write
 * with the claims and finishes of the moment (the engine's WriteLane): a lone start was 4
 * statements (begin, lock, update, commit), most of a third of the single-task protocol's
 * work.
 */
const STARTS: LaneKind<StartCall, Guarded<true>> = {
  order: 1,
  max: 500,
  write: startIn,
  alone: startAlone,
};

const startWriters = new WeakMap<EngineContext, GroupCommit<StartCall, Guarded<true>>>();

/**
 * PostgreSQL's writer of start calls (one per engine, made on first use). The start calls
 * of a moment are one statement outside any transaction, which commits by itself, beside
 * the write lane's transactions: a start changes only its execution, which no claim or
 * finish of the moment holds (a node reports a finish after its start is answered). In a
 * transaction, `begin` goes out with the statement but `commit` is a round trip of its own,
 * and on a busy server each round trip waits for a turn of the event loop. Calls the
 * statement does not start take startAlone's guarded path.
 *
 * One batch at a time, so that the starts of a moment share one commit (each waits for its
 * WAL flush), on a connection the writer holds while it has work (held-connection.ts).
 *
 * bench/peer.ts, single-task protocol, PostgreSQL, 6,000 tasks, against a start lane of
 * transactions: one set of six alternated runs gave a median of 799 tasks/s before and 841
 * after, a later set 832 and 829 (with the held connection): within the machine's ±10%.
 */
function autocommitStarts(
  ctx: EngineContext,
  settings: EngineSettings,
): GroupCommit<StartCall, Guarded<true>> {
  let writer = startWriters.get(ctx);
  if (!writer) {
    const held = new HeldConnection(ctx.db);
    writer = new GroupCommit<StartCall, Guarded<true>>(
      (calls) => held.run((db) => startTogether(ctx, settings, db, calls)),
      {
        alone: (call) => startAlone(ctx, settings, call),
        onIdle: () => held.release(),
      },
    );
    startWriters.set(ctx, writer);
  }
  return writer;
}

export async function startExecution(
  ctx: EngineContext,
  settings: EngineSettings,
  executionId: number,
  nodeId: number | undefined,
): Promise<void> {
  const call = { executionId, nodeId };
  const result =
    ctx.dialect === 'postgres'
      ? await autocommitStarts(ctx, settings).submit(call)
      : await writeLane(ctx, settings).submit(STARTS, call);
  if ('refused' in result) throw result.refused;
}

/** startIn's one statement, committed by itself; the calls it did not start go alone. */
async function startTogether(
  ctx: EngineContext,
  settings: EngineSettings,
  db: Db,
  calls: StartCall[],
): Promise<Guarded<true>[]> {
  const { started, startedBy } = await startFirstCalls(ctx, settings, db, calls);
  const events = pendingEvents(ctx);
  for (const execution of started) {
    emitExecutionMoved(events.emit, execution, 'ACQUIRED', 'RUNNING');
  }
  events.deliver();
  return Promise.all(
    calls.map((call) =>
      startedBy(call) ? { ok: true as const } : startAlone(ctx, settings, call),
    ),
  );
}

/**
 * The first call for each execution may start it (any other takes a guarded path: a second
 * start of a RUNNING execution of its own node is answered as the first was): live
 * executions of their own node, with their lease, start in one update.
 */
async function startFirstCalls(
  ctx: EngineContext,
  settings: EngineSettings,
  db: Executor,
  calls: readonly StartCall[],
): Promise<{ started: ExecutionRow[]; startedBy: (call: StartCall) => boolean }> {
  const now = ctx.clock();
  const first = new Map<number, StartCall>();
  for (const call of calls) if (!first.has(call.executionId)) first.set(call.executionId, call);
  const started = await startAcquiredExecutions(
    db,
    [...first.values()].map((c) => ({ id: c.executionId, nodeId: c.nodeId ?? null })),
    now,
    now + settings.leaseMs,
  );
  const startedIds = new Set(started.map((e) => e.id));
  return {
    started,
    // Whether this call is the one that started its execution (others take a guarded path).
    startedBy: (call) => first.get(call.executionId) === call && startedIds.has(call.executionId),
  };
}

/** One start in its own transaction (a group that threw is written again call by call). */
async function startAlone(
  ctx: EngineContext,
  settings: EngineSettings,
  { executionId, nodeId }: StartCall,
): Promise<Guarded<true>> {
  try {
    await report(ctx, executionId, nodeId, async (tx, emit, execution) => {
      await start(ctx, tx, emit, settings, execution);
    });
    return { ok: true };
  } catch (error) {
    if (error instanceof DroverError) return { refused: error };
    throw error;
  }
}

/**
 * Live executions of their own node, with their lease, start in one update; any other
 * (already running, refused, reaped, unknown) takes the guarded one-call path.
 */
async function startIn(
  ctx: EngineContext,
  settings: EngineSettings,
  tx: Tx,
  emit: Emit,
  calls: StartCall[],
): Promise<Guarded<true>[]> {
  const { started, startedBy } = await startFirstCalls(ctx, settings, tx, calls);
  const answers: Guarded<true>[] = [];
  for (const call of calls) {
    if (startedBy(call)) {
      answers.push({ ok: true });
      continue;
    }
    const checked = await guard(ctx, tx, emit, call.executionId, call.nodeId);
    answers.push('refused' in checked ? checked : { ok: true });
  }
  for (const execution of started) emitExecutionMoved(emit, execution, 'ACQUIRED', 'RUNNING');
  return answers;
}

async function start(
  ctx: EngineContext,
  tx: Tx,
  emit: Emit,
  settings: EngineSettings,
  execution: ExecutionRow,
): Promise<ExecutionRow> {
  const now = ctx.clock();
  if (execution.state === 'RUNNING') return execution;
  await updateExecution(tx, execution.id, {
    state: 'RUNNING',
    started_at: now,
    lease_expires_at: now + settings.leaseMs,
    last_heartbeat: now,
    last_modified: now,
  });
  emitExecutionMoved(emit, execution, execution.state as ExecutionState, 'RUNNING');
  return { ...execution, state: 'RUNNING', started_at: now };
}

/** Extends one execution's lease; answers whether the node should keep working on it. */
export async function executionHeartbeat(
  ctx: EngineContext,
  settings: EngineSettings,
  executionId: number,
  nodeId: number | undefined,
): Promise<void> {
  await report(ctx, executionId, nodeId, async (tx, _emit, execution) => {
    const now = ctx.clock();
    await updateExecution(tx, execution.id, {
      lease_expires_at: now + settings.leaseMs,
      last_heartbeat: now,
    });
  });
}

/**
 * The node reports success. `timedOut`: the task ran past its timeout and its job's
 * timeout action (COMPLETE or NOTIFY) still counts it as done; the flag is kept either way
 * once set. A job-definition format may refuse the execution's outputs (a Seed job's must
 * satisfy its manifest), which fails it with the format's error (`settleOutputs`).
 */
export async function completeExecution(
  ctx: EngineContext,
  settings: EngineSettings,
  executionId: number,
  nodeId: number | undefined,
  exitCode: number | null = 0,
  options: { timedOut?: boolean; usage?: ExecutionUsage | undefined } = {},
): Promise<void> {
  await report(ctx, executionId, nodeId, (tx, emit, acquired) =>
    completeIn(ctx, tx, emit, settings, acquired, exitCode, options),
  );
}

/** completeExecution's work on an execution that passed the guard. */
export async function completeIn(
  ctx: EngineContext,
  tx: Tx,
  emit: Emit,
  settings: EngineSettings,
  acquired: ExecutionRow,
  exitCode: number | null,
  options: { timedOut?: boolean; usage?: ExecutionUsage | undefined },
): Promise<void> {
  const execution = await start(ctx, tx, emit, settings, acquired);
  // A Seed job whose outputs break its manifest fails here, as Scale's post step fails it.
  // Or one whose declared outputs are missing or empty (outputs/declared-outputs.ts).
  const refused =
    (await checkDeclaredOutputs(ctx, tx, execution)) ??
    (await settleOutputs(ctx.formats, tx, ctx.blobs, execution, ctx.clock()));
  if (refused) {
    await failExecution(ctx, tx, emit, execution, 'fail', {
      ...refused,
      exitCode,
      ...(options.timedOut ? { timedOut: true } : {}),
      ...(options.usage ? { usage: options.usage } : {}),
    });
    return;
  }
  await endCompleted(
    ctx,
    tx,
    emit,
    execution,
    { exit_code: exitCode, ...(options.timedOut ? { timed_out: 1 } : {}) },
    options.usage,
  );
}

/**
 * The server ends a RUNNING execution past its task timeout as done (timeout action
 * COMPLETE): COMPLETED, flagged timed out, its task completed. The node learns at its next
 * heartbeat that the execution is over and kills the command.
 */
export async function completeTimedOutExecution(
  ctx: EngineContext,
  tx: Tx,
  emit: Emit,
  execution: ExecutionRow,
): Promise<void> {
  await endCompleted(ctx, tx, emit, execution, { exit_code: null, timed_out: 1 });
}

async function endCompleted(
  ctx: EngineContext,
  tx: Tx,
  emit: Emit,
  execution: ExecutionRow,
  patch: Partial<Pick<ExecutionRow, 'exit_code' | 'timed_out'>>,
  usage?: ExecutionUsage,
): Promise<void> {
  const from = execution.state as ExecutionState;
  executionStateMachine.apply(from, 'complete', execution.id);
  // The same writes as a batch of successes (completeMany): the job's row last, in one
  // statement on PostgreSQL, so its lock is held for that statement and the commit.
  const { job, taskIds } = await completeExecutionsOfJob(
    tx,
    ctx.dialect,
    execution.job_id,
    [
      {
        executionId: execution.id,
        taskId: execution.task_id,
        exitCode: patch.exit_code !== undefined ? patch.exit_code : execution.exit_code,
        timedOut: patch.timed_out ?? execution.timed_out,
        usage: usageColumns(usage),
      },
    ],
    ctx.clock(),
  );
  emitExecutionMoved(emit, execution, from, 'COMPLETED');
  emitTasksMoved(emit, execution.job_id, taskIds, 'RUNNING', 'COMPLETED');
  await settleFreshJob(ctx, tx, emit, job, undefined, taskIds);
}

/**
 * A RUNNING execution of a NOTIFY job ran past its task timeout: it is flagged timed out
 * (once) and left running to its natural end.
 */
export async function flagTimedOutExecution(
  ctx: EngineContext,
  tx: Tx,
  execution: ExecutionRow,
): Promise<boolean> {
  if (execution.timed_out === 1) return false;
  await updateExecution(tx, execution.id, { timed_out: 1, last_modified: ctx.clock() });
  return true;
}

export async function failReportedExecution(
  ctx: EngineContext,
  executionId: number,
  nodeId: number | undefined,
  failure: Failure,
): Promise<void> {
  await report(ctx, executionId, nodeId, (tx, emit, execution) =>
    failExecution(ctx, tx, emit, execution, 'fail', failure),
  );
}

/** The node gives back a task it acquired but did not start; no try is counted. */
export async function releaseExecution(
  ctx: EngineContext,
  executionId: number,
  nodeId: number | undefined,
): Promise<void> {
  await report(ctx, executionId, nodeId, async (tx, emit, execution) => {
    if (execution.state !== 'ACQUIRED') {
      throw new DroverError(
        'ILLEGAL_TRANSITION',
        `execution ${executionId} has started; abort it instead`,
      );
    }
    await giveBack(ctx, tx, emit, execution, 'release');
  });
}

/** The node (or an operator) abandons a live execution; the task is queued again, no try counted. */
export async function abortExecution(
  ctx: EngineContext,
  executionId: number,
  nodeId: number | undefined,
): Promise<void> {
  await report(ctx, executionId, nodeId, (tx, emit, execution) =>
    giveBack(ctx, tx, emit, execution, 'stop'),
  );
}

async function giveBack(
  ctx: EngineContext,
  tx: Tx,
  emit: Emit,
  execution: ExecutionRow,
  event: 'release' | 'stop',
): Promise<void> {
  const job = await lockedJob(ctx, tx, execution.job_id);
  await endExecution(ctx, tx, emit, execution, event);
  const task = await findTask(tx, execution.task_id);
  if (task?.state === 'RUNNING') await moveTasks(ctx, tx, emit, job.id, [task], 'retry');
}
