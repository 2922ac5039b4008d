import type { KyselyConfig, LogEvent } from 'kysely';

/*
 * A diagnostic for benchmarks: with DROVER_COUNT_STATEMENTS=1, every statement the server
 * runs is counted by its text, so that bench/dispatch.ts can print the statements each task
 * costs (issue 10 began at 27.2). Off, it costs nothing: Kysely gets no logger.
 */

/** Per statement text: how many ran, and the milliseconds they took. */
export interface StatementCount {
  count: number;
  ms: number;
  /** The parameters it last ran with: enough to EXPLAIN it as it ran. */
  parameters: readonly unknown[];
}

const counts = new Map<string, StatementCount>();

function count(event: LogEvent): void {
  const found = counts.get(event.query.sql) ?? { count: 0, ms: 0, parameters: [] };
  found.count++;
  found.ms += event.queryDurationMillis;
  found.parameters = event.query.parameters;
  counts.set(event.query.sql, found);
}

/** The Kysely options that count statements, when asked for. */
export function statementCounting(): Pick<KyselyConfig, 'log'> {
  return process.env.DROVER_COUNT_STATEMENTS === '1' ? { log: count } : {};
}

/** The statements run since the last call, by text, and forgets them. */
export function takeStatementCounts(): Map<string, StatementCount> {
  const taken = new Map(counts);
  counts.clear();
  return taken;
}
