import { sql } from 'kysely';
import type { Executor } from './database.js';

/*
 * The live jobs in each state, counted exactly without reading the jobs (migration 0049
 * says how the tallies are kept). A list whose only filter is the state reads its total
 * here: over a million jobs that is a few rows, where count(*) read every match.
 */

/** Live jobs by state; a state with none may be absent or 0. */
export async function jobTallies(db: Executor): Promise<Map<string, number>> {
  // One statement, so the row and its deltas are of one snapshot even while a fold moves
  // the deltas into the row.
  const { rows } = await sql<{ state: string; n: number | string }>`
    select state, sum(n) as n from (
      select state, n from job_tallies
      union all select state, n from job_tally_deltas) t
    group by state`.execute(db);
  return new Map(rows.map((r) => [r.state, Number(r.n)]));
}

/** How many live jobs are in any of `states` (in any state when undefined), exactly. */
export async function liveJobCount(db: Executor, states?: readonly string[]): Promise<number> {
  let total = 0;
  for (const [state, n] of await jobTallies(db)) if (!states || states.includes(state)) total += n;
  return total;
}

/**
 * Moves the deltas into the tallies (PostgreSQL's triggers append deltas; SQLite's never
 * do). Safe beside another replica's fold: each delta row is deleted by one of them, and
 * the other skips it. Returns how many delta rows it folded.
 */
export async function foldJobTallies(db: Executor): Promise<number> {
  // Most ticks find none (and SQLite always does): a read, not a write, says so. The fold's
  // statement is PostgreSQL's own, a delete in WITH.
  const any = await sql`select 1 as one from job_tally_deltas limit 1`.execute(db);
  if (any.rows.length === 0) return 0;
  const { rows } = await sql<{ folded: number | string }>`
    with gone as (delete from job_tally_deltas returning state, n),
    sums as (select state, sum(n) as n, count(*) as folded from gone group by state),
    added as (
      insert into job_tallies (state, n) select state, n from sums
      on conflict (state) do update set n = job_tallies.n + excluded.n)
    select coalesce(sum(folded), 0) as folded from sums`.execute(db);
  return Number(rows[0]?.folded ?? 0);
}
