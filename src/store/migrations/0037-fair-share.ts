import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/*
 * Fair share (docs/scheduling.md): a pool's scheduling mode. `pools` holds a row only for a
 * pool whose mode is not `priority` (or once was set): a pool without one keeps strict
 * priority then age. `pool_shares` holds a weighted pool's users: their share (1 for a user
 * without a row) and an optional burst limit (the most tasks they may run in the pool).
 *
 * Ordering, not exclusion: the walk still reads a page of JOBS_PER_LOOK jobs through
 * `jobs_dispatchable` in priority-then-age order, unchanged, and orders that page again:
 * priority first, then, for a job of a balanced pool, its running tasks, and for a job of a
 * weighted pool, its user's running tasks in the pool divided by their share; age breaks
 * ties. A job of a priority pool sorts by 0 there, so the page keeps its order; it costs a
 * probe of the (small) pools table per job of the page and a sort of at most four rows.
 * The running counts are the jobs' `tasks_running` counters summed through
 * `jobs_pool_user`, so a weighted pool costs a walk of its user's jobs, not of executions.
 *
 * A burst limit is a hard cap, counted in the claim: SQLite runs one writer at a time and
 * counts in its transaction (engine/dispatch/dispatcher.ts); PostgreSQL's `drover_claim`
 * (0035's text, edited here by anchors found exactly once, as 0025 and 0035 did) takes a
 * transaction-scoped advisory lock per pool and user, tried and never awaited, and counts the
 * committed counters plus this group's own choices, as limits do.
 */
export function fairShareSchema(dialect: DialectName) {
  async function up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('pools')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('mode', 'text', (c) => c.notNull().defaultTo('priority'))
      .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('last_modified', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('pool_shares')
      .addColumn('pool', 'text', (c) => c.notNull().references('pools.name').onDelete('cascade'))
      .addColumn('user_name', 'text', (c) => c.notNull())
      .addColumn('share', 'double precision', (c) => c.notNull())
      .addColumn('burst', 'integer')
      .addPrimaryKeyConstraint('pool_shares_pk', ['pool', 'user_name'])
      .execute();
    await sql`create index jobs_pool_user on jobs (pool, user_name) where deleted_at is null`.execute(
      db,
    );
    if (dialect !== 'postgres') return;
    const { rows } = await sql<{ def: string }>`
      select pg_get_functiondef(p.oid) as def from pg_proc p
      where p.proname = 'drover_claim' and p.pronamespace = current_schema()::regnamespace
    `.execute(db);
    if (rows.length !== 1) {
      throw new Error(`0037-fair-share: expected one drover_claim, found ${rows.length}`);
    }
    let def = rows[0]!.def;
    for (const [anchor, replacement] of CLAIM_EDITS) {
      const pattern = new RegExp(
        anchor
          .trim()
          .split(/\s+/)
          .map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
          .join('\\s+'),
        'g',
      );
      const found = def.match(pattern)?.length ?? 0;
      if (found !== 1) {
        throw new Error(
          `0037-fair-share: expected drover_claim to hold "${anchor.trim()}" once, found it ${found} time(s)`,
        );
      }
      def = def.replace(pattern, () => replacement);
    }
    await sql.raw(def).execute(db);
  }
  return { up };
}

/** Running tasks of `user` in `pool`, from the jobs' counters. */
const userRunning = (pool: string, user: string) =>
  `(select coalesce(sum(o.tasks_running), 0) from jobs o
      where o.pool = ${pool} and o.user_name = ${user} and o.deleted_at is null)`;

/** This group's own choices (not in any counter yet) of the user's jobs in the pool. */
const userChosen = (pool: string, user: string) =>
  `(select count(*) from unnest(c_job) u join jobs o on o.id = u
      where o.pool = ${pool} and o.user_name = ${user})`;

const CLAIM_EDITS: [string, string][] = [
  [
    `v_gpu_n int;`,
    `v_gpu_n int;
        v_user_locks int := hashtext(current_schema() || '/drover_claim/user');`,
  ],
  [
    `select j.id, j.machine_limit, j.tasks_queued, j.uses_limits, j.uses_capacity,
                j.req_gpus from jobs as j`,
    `select p.*, case when po.mode = 'weighted' then (select s.burst from pool_shares s
                  where s.pool = p.pool and s.user_name = p.user_name) end as burst
              from (select j.id, j.machine_limit, j.tasks_queued, j.uses_limits,
                j.uses_capacity, j.req_gpus, j.priority, j.created_at, j.pool, j.user_name,
                j.tasks_running from jobs as j`,
  ],
  [
    `order by j.priority desc, j.created_at, j.id
              limit p_jobs_per_look`,
    `order by j.priority desc, j.created_at, j.id
              limit p_jobs_per_look) p
              left join pools po on po.name = p.pool and p.pool <> ''
              order by p.priority desc,
                case po.mode
                  when 'balanced' then p.tasks_running
                    + (select count(*) from unnest(c_job) u where u = p.id)
                  when 'weighted' then (${userRunning('p.pool', 'p.user_name')}
                    + ${userChosen('p.pool', 'p.user_name')})
                    / coalesce((select s.share from pool_shares s
                      where s.pool = p.pool and s.user_name = p.user_name), 1)
                  else 0 end,
                p.created_at, p.id`,
  ],
  [
    `v_room := v_want - v_taken;`,
    `v_room := v_want - v_taken;
              if cand.burst is not null then
                -- A hard cap: concurrent transactions count each other under the lock.
                if not pg_try_advisory_xact_lock(v_user_locks,
                    hashtext(cand.pool || '/' || cand.user_name)) then
                  r_contended[i] := true;
                  continue;
                end if;
                v_room := least(v_room, cand.burst
                  - ${userRunning('cand.pool', 'cand.user_name')}::int
                  - ${userChosen('cand.pool', 'cand.user_name')}::int);
                if v_room <= 0 then continue; end if;
              end if;`,
  ],
];
