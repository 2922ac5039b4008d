import type { KyselyConfig, LogEvent } from 'kysely';

/*
 * A diagnostic for benchmarks: with DROVER_COUNT_STATEMENTS=1, every statement the server
 * runs is counted by its text, so that bench/dispatch.ts can print the statements each task
 * costs (issue 10 began at 27.2). Off, it costs nothing: Kysely gets no logger.
 */

const counts = new Map<string, number>();

function count(event: LogEvent): void {
  counts.set(event.query.sql, (counts.get(event.query.sql) ?? 0) + 1);
}

/** The Kysely options that count statements, when asked for. */
export function statementCounting(): Pick<KyselyConfig, 'log'> {
  return process.env.DROVER_COUNT_STATEMENTS === '1' ? { log: count } : {};
}

/** The statements run since the last call, by text, and forgets them. */
export function takeStatementCounts(): Map<string, number> {
  const taken = new Map(counts);
  counts.clear();
  return taken;
}
