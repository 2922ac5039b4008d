import type { Executor } from './database.js';

/**
 * Where a line came from: the process's own stdout and stderr, or the worker running it
 * (`drover: … runs …`, `drover: exited with code 0`). Older workers named the worker's
 * lines `system`; they are stored and read as `worker`.
 */
export type LogStream = 'stdout' | 'stderr' | 'worker';
export const LEGACY_WORKER_STREAM = 'system';
export interface LogLine {
  /** 0-based position of the line in the execution's log. */
  line: number;
  stream: LogStream;
  time: number;
  text: string;
}

export type StoredLine = [LogStream | typeof LEGACY_WORKER_STREAM, number, string];

/**
 * Appends one batch of lines as one row. A batch is what a worker sends in one request,
 * so a busy log costs one insert per request, not per line.
 */
export async function appendLogBatch(
  tx: Executor,
  executionId: number,
  firstLine: number,
  lines: { stream: LogStream; time: number; text: string }[],
  now: number,
): Promise<void> {
  await tx
    .insertInto('log_batches')
    .values({
      execution_id: executionId,
      first_line: firstLine,
      line_count: lines.length,
      lines_json: JSON.stringify(lines.map((l): StoredLine => [l.stream, l.time, l.text])),
      created_at: now,
    })
    .execute();
}

/** Lines [from, from + limit) of an execution's log, read from the batches that hold them. */
export async function readLogLines(
  db: Executor,
  executionId: number,
  from: number,
  limit: number,
): Promise<LogLine[]> {
  const to = from + limit;
  const batches = await db
    .selectFrom('log_batches')
    .select(['first_line', 'line_count', 'lines_json'])
    .where('execution_id', '=', executionId)
    .where('first_line', '<', to)
    .where((eb) => eb(eb('first_line', '+', eb.ref('line_count')), '>', from))
    .orderBy('first_line')
    .execute();
  return linesOfBatches(batches, from, to);
}

/** The lines [from, to) of stored batches, in order (execution and session logs alike). */
export function linesOfBatches(
  batches: readonly { first_line: number; lines_json: string }[],
  from: number,
  to: number,
): LogLine[] {
  const out: LogLine[] = [];
  for (const batch of batches) {
    const stored = JSON.parse(batch.lines_json) as StoredLine[];
    stored.forEach(([stream, time, text], i) => {
      const line = batch.first_line + i;
      if (line >= from && line < to) {
        out.push({ line, stream: stream === LEGACY_WORKER_STREAM ? 'worker' : stream, time, text });
      }
    });
  }
  return out;
}
