import { sql, type RawBuilder } from 'kysely';
import type { DialectName, Executor } from '../database.js';

/*
 * How many rows a list matches, capped. An exact count(*) reads every match: over a million
 * jobs that was most of each request (pool filter: 173 ms counting against 8 ms for the
 * page). So the count stops one row past a limit, reading the same partial index as the
 * page; at or below the limit the total is exact (every test table is). Above it,
 * PostgreSQL gives its planner's estimate (EXPLAIN, no rows read), never less than the
 * limit + 1. SQLite has no estimate worth the name, but counts index entries fast (392,000
 * in 45 ms), so its limit is higher: the web UI's pager stays exact over 100,000 jobs, and
 * above that the total is the lower bound limit + 1, to be read as "more than 100,000".
 * PostgreSQL took 4 ms for 10,000 entries, so 100,000 would cost 40 ms a page.
 */
const EXACT_TOTAL_LIMITS: Record<DialectName, number> = { sqlite: 100_000, postgres: 10_000 };

/** Up to how many matches a capped total is exact on this database. */
export function exactTotalLimit(dialect: DialectName): number {
  return EXACT_TOTAL_LIMITS[dialect];
}

export interface CappedTotal {
  total: number;
  /** False when more than exactTotalLimit() rows match and `total` is an estimate. */
  exact: boolean;
}

/** `matches` selects one constant per matching row, unordered and unlimited. */
export async function cappedCount(
  db: Executor,
  dialect: DialectName,
  matches: RawBuilder<unknown>,
): Promise<CappedTotal> {
  const limit = exactTotalLimit(dialect);
  const capped = await sql<{ n: number | string }>`select count(*) as n
    from (${matches} limit ${limit + 1}) capped`.execute(db);
  const counted = Number(capped.rows[0]?.n ?? 0);
  if (counted <= limit) return { total: counted, exact: true };
  if (dialect === 'sqlite') return { total: counted, exact: false };
  const plan = await sql<{ 'QUERY PLAN': [{ Plan: { 'Plan Rows': number } }] }>`
    explain (format json) ${matches}`.execute(db);
  const estimate = Math.round(plan.rows[0]?.['QUERY PLAN'][0].Plan['Plan Rows'] ?? 0);
  return { total: Math.max(counted, estimate), exact: false };
}
