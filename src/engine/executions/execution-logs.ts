import { DroverError, invalid, notFound } from '../../domain/errors.js';
import { LIVE_EXECUTION_STATES, type ExecutionState } from '../../domain/execution-state.js';
import { findExecution, lockExecution, updateExecution } from '../../store/executions.js';
import {
  appendLogBatch,
  LEGACY_WORKER_STREAM,
  readLogLines,
  type LogLine,
  type LogStream,
} from '../../store/logs.js';
import { inTransaction, type EngineContext } from '../context.js';

export const MAX_LINES_PER_BATCH = 5000;
export const MAX_LINE_LENGTH = 64 * 1024;

export interface IncomingLine {
  /** `system`: the worker's lines, as workers before the `worker` stream name them. */
  stream: LogStream | typeof LEGACY_WORKER_STREAM;
  text: string;
  time?: number;
}

/**
 * Appends a batch of lines to a live execution's log, in order. Lines arrive only from the
 * node holding the execution (the fencing token rule); a late batch after the execution
 * ended is still kept, since it tells what happened.
 */
export async function appendLog(
  ctx: EngineContext,
  executionId: number,
  nodeId: number | undefined,
  lines: readonly IncomingLine[],
  /**
   * Where the sender says the batch starts. A batch sent again (its answer was lost) starts
   * before the end of the stored log: the lines already stored are not stored twice.
   */
  position?: number,
): Promise<{ firstLine: number; count: number }> {
  if (lines.length === 0) return { firstLine: 0, count: 0 };
  if (lines.length > MAX_LINES_PER_BATCH) {
    throw invalid(`send at most ${MAX_LINES_PER_BATCH} lines per batch`);
  }
  return inTransaction(ctx, async (tx, emit) => {
    const execution = await lockExecution(tx, ctx.dialect, executionId);
    if (!execution) throw notFound('execution', executionId);
    if (nodeId !== undefined && execution.node_id !== nodeId) {
      throw new DroverError('STALE_LEASE', `execution ${executionId} is held by another node`);
    }
    const now = ctx.clock();
    const firstLine = execution.log_lines;
    const known = position === undefined ? 0 : Math.max(0, firstLine - position);
    const fresh = lines.slice(known);
    if (fresh.length === 0) return { firstLine, count: 0 };
    await appendLogBatch(
      tx,
      executionId,
      firstLine,
      fresh.map((l) => ({
        stream: l.stream === LEGACY_WORKER_STREAM ? 'worker' : l.stream,
        time: l.time ?? now,
        text: l.text.length > MAX_LINE_LENGTH ? l.text.slice(0, MAX_LINE_LENGTH) : l.text,
      })),
      now,
    );
    await updateExecution(tx, executionId, { log_lines: firstLine + fresh.length });
    emit({ type: 'log.appended', jobId: execution.job_id, executionId, lines: fresh.length });
    return { firstLine, count: fresh.length };
  });
}

export interface LogPage {
  lines: LogLine[];
  /** Where the next read should start. */
  next: number;
  /** Whether more lines may still come (the execution is live). */
  live: boolean;
}

export async function readLog(
  ctx: EngineContext,
  executionId: number,
  from: number,
  limit: number,
): Promise<LogPage> {
  const execution = await findExecution(ctx.db, executionId);
  if (!execution) throw notFound('execution', executionId);
  const lines = await readLogLines(ctx.db, executionId, from, limit);
  const last = lines.at(-1);
  return {
    lines,
    next: last ? last.line + 1 : Math.min(from, execution.log_lines),
    live: LIVE_EXECUTION_STATES.includes(execution.state as ExecutionState),
  };
}

/**
 * Like readLog, but when nothing is there yet and the execution is live, waits up to
 * `waitMs` for lines to arrive (follow mode).
 */
export async function followLog(
  ctx: EngineContext,
  executionId: number,
  from: number,
  limit: number,
  waitMs: number,
  signal?: AbortSignal,
): Promise<LogPage> {
  let woken: () => void = () => undefined;
  const arrived = new Promise<void>((resolve) => (woken = resolve));
  const unsubscribe = ctx.bus.subscribe((event) => {
    if (
      (event.type === 'log.appended' && event.executionId === executionId) ||
      (event.type === 'execution.state' && event.executionId === executionId)
    ) {
      woken();
    }
  });
  try {
    const page = await readLog(ctx, executionId, from, limit);
    if (page.lines.length > 0 || !page.live || waitMs <= 0 || signal?.aborted) return page;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, waitMs);
      void arrived.then(() => {
        clearTimeout(timer);
        resolve();
      });
      signal?.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
    });
    return await readLog(ctx, executionId, from, limit);
  } finally {
    unsubscribe();
  }
}
