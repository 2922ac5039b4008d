import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/*
 * An execution is live from its claim until it ends, and every end sets `ended_at`
 * (state-changes.ts endExecution, the batched completions): `ended_at is null` marks the
 * live ones. Indexing liveness by that column instead of by `state` makes the updates of a
 * live execution write no index:
 *
 * - `executions_node_state (node_id, state)` and `executions_state_lease (state,
 *   lease_expires_at)` held `state`, and the second `lease_expires_at`: on PostgreSQL a
 *   start (ACQUIRED → RUNNING) and every lease renewal (each heartbeat of each running
 *   task) changed an indexed column, so the new row version could not be HOT and was
 *   inserted into all five indexes of the table; on SQLite each wrote one or two index
 *   entries. Now a start, a heartbeat and a progress report change no indexed column.
 * - `executions_live (node_id) where ended_at is null` answers what the two did: a node's
 *   live executions (the claim's free-slot count), and the reaper's scan of live leases,
 *   which reads the live rows only (at most the farm's slots) and no longer needs the lease
 *   in an index. An execution's end leaves it.
 * - `executions_node (node_id, id)` keeps a node's history listable.
 *
 * On PostgreSQL executions' pages keep a tenth free, so the row versions of a start or a
 * renewal fit beside the old one (a HOT update needs room on the same page).
 *
 * A query reaches the partial index only when its predicate visibly implies the index's:
 * the live queries say `ended_at is null` besides their state test. `drover_claim` (0019)
 * tests liveness in five places (a node's live count, and a machine limit's counts, which
 * go by job and gain only a filter); it is defined again with that term added, and the
 * migration fails if the function does not hold exactly those five.
 */
const LIVE_TEST = "x.state in ('ACQUIRED', 'RUNNING')";

export function liveExecutionsSchema(dialect: DialectName) {
  async function up(db: Kysely<unknown>): Promise<void> {
    await sql`drop index executions_node_state`.execute(db);
    await sql`drop index executions_state_lease`.execute(db);
    await sql`create index executions_node on executions (node_id, id)`.execute(db);
    await sql`create index executions_live on executions (node_id) where ended_at is null`.execute(
      db,
    );
    if (dialect !== 'postgres') return;
    await sql`alter table executions set (fillfactor = 90)`.execute(db);
    const { rows } = await sql<{ def: string }>`
      select pg_get_functiondef(p.oid) as def from pg_proc p
      where p.proname = 'drover_claim' and p.pronamespace = current_schema()::regnamespace
    `.execute(db);
    const def = rows[0]?.def;
    const found = def?.split(LIVE_TEST).length ?? 0;
    if (rows.length !== 1 || found - 1 !== 5) {
      throw new Error(
        `0021-live-executions: expected one drover_claim with 5 live-execution tests, found ${rows.length} function(s) and ${Math.max(found - 1, 0)} test(s)`,
      );
    }
    await sql.raw(def!.split(LIVE_TEST).join(`x.ended_at is null and ${LIVE_TEST}`)).execute(db);
  }
  return { up };
}
