import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/*
 * Capacity (docs/scheduling.md): a job that asks for cpus, memory or gpus per task
 * (`jobs.uses_capacity` = 1) runs on a node only while the sum of what the node's live
 * executions of such jobs ask for, plus its own ask, fits the node. A job that asks nothing
 * keeps using slots alone, and costs the claim one column test on the row it already reads.
 * `executions.gpu_ids` holds the node's GPU indexes an execution was given ('0,2'; '' for
 * none): the claim gives each task of a job asking gpus that many indexes no live execution
 * of the node holds, and the work order carries them to the worker.
 *
 * SQLite: the dispatcher counts the room itself (store/node-capacity.ts), inside its one
 * writing transaction. The walk's answer does not depend on what a node runs now (only on
 * whether the job could ever fit it), so `jobs_node_specific` is unchanged.
 *
 * PostgreSQL: `drover_claim` is 0030's text with four edits, each made on the function's
 * current definition by replacing an anchor that must be found exactly once (as 0025 and
 * 0026 did): the walk reads `uses_capacity` and `req_gpus`; a capacity job's room is
 * counted by `drover_capacity_room`, which adds this group's own choices for the node (not
 * executions yet) to its live executions; the chosen tasks of a job asking gpus get
 * indexes from `drover_free_gpus`, which likewise leaves out this group's choices; and the
 * executions are written with them. Concurrent claims of one node in other transactions
 * are excluded by the node's advisory lock that 0030 takes, so two transactions never count
 * the same free capacity nor give out the same GPU index. The counting lives in helper
 * functions so that drover_claim's own liveness tests stay the five that
 * test/store/live-execution-indexes.test.ts counts.
 */
export function capacitySchema(dialect: DialectName) {
  async function up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .alterTable('jobs')
      .addColumn('uses_capacity', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .alterTable('executions')
      .addColumn('gpu_ids', 'text', (c) => c.notNull().defaultTo(''))
      .execute();
    await sql`
      update jobs set uses_capacity = 1 where req_cpus > 0 or req_mem > 0 or req_gpus > 0
    `.execute(db);
    if (dialect !== 'postgres') return;
    await sql.raw(CAPACITY_ROOM).execute(db);
    await sql.raw(FREE_GPUS).execute(db);
    const { rows } = await sql<{ def: string }>`
      select pg_get_functiondef(p.oid) as def from pg_proc p
      where p.proname = 'drover_claim' and p.pronamespace = current_schema()::regnamespace
    `.execute(db);
    if (rows.length !== 1) {
      throw new Error(`0035-capacity: expected one drover_claim, found ${rows.length}`);
    }
    let def = rows[0]!.def;
    for (const [anchor, replacement] of CLAIM_EDITS) {
      // Whitespace as pg_get_functiondef keeps it, matched loosely so indentation is no anchor.
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
          `0035-capacity: expected drover_claim to hold "${anchor.trim()}" once, found it ${found} time(s)`,
        );
      }
      def = def.replace(pattern, () => replacement);
    }
    await sql.raw(def).execute(db);
  }
  return { up };
}

/**
 * How many more tasks of `p_job` fit on the node: its free cpus, memory and gpus (the node's
 * minus what its live executions of capacity jobs ask, minus what this group chose for it)
 * divided by the job's ask of each, the least of them. A small epsilon keeps 16 / 4 at 4
 * whatever the float rounding.
 */
const CAPACITY_ROOM = `
  create function drover_capacity_room(p_node bigint, p_cpus double precision,
    p_mem double precision, p_gpus double precision, p_job bigint,
    p_chosen_jobs bigint[], p_chosen_nodes bigint[]) returns int
  language sql stable as $fn$
    with r as (select req_cpus as c, req_mem as m, req_gpus as g from jobs where id = p_job),
    u as (
      select coalesce(sum(j.req_cpus), 0) as c, coalesce(sum(j.req_mem), 0) as m,
        coalesce(sum(j.req_gpus), 0) as g
      from (select x.job_id from executions x where x.node_id = p_node
          and x.ended_at is null and x.state in ('ACQUIRED', 'RUNNING')
        union all
        select s.j from unnest(p_chosen_jobs, p_chosen_nodes) s(j, n) where s.n = p_node) l
      join jobs j on j.id = l.job_id and j.uses_capacity = 1)
    select greatest(0, least(
      case when r.c > 0 then floor((p_cpus - u.c) / r.c + 1e-6) else 1000000 end,
      case when r.m > 0 then floor((p_mem - u.m) / r.m + 1e-6) else 1000000 end,
      case when r.g > 0 then floor((p_gpus - u.g) / r.g + 1e-6) else 1000000 end))::int
    from r, u
  $fn$
`;

/** The node's GPU indexes that no live execution holds and this group did not give out. */
const FREE_GPUS = `
  create function drover_free_gpus(p_node bigint, p_gpus int, p_chosen_nodes bigint[],
    p_chosen_gpus text[]) returns int[]
  language sql stable as $fn$
    select coalesce(array_agg(g order by g), '{}') from generate_series(0, p_gpus - 1) g
    where g not in (select cast(unnest(string_to_array(x.gpu_ids, ',')) as int)
        from executions x where x.node_id = p_node and x.ended_at is null
          and x.state in ('ACQUIRED', 'RUNNING') and x.gpu_ids <> '')
      and g not in (select cast(unnest(string_to_array(s.g, ',')) as int)
        from unnest(p_chosen_nodes, p_chosen_gpus) s(n, g) where s.n = p_node and s.g <> '')
  $fn$
`;

const CLAIM_EDITS: [string, string][] = [
  [
    `v_dropped bigint[] := '{}';`,
    `v_dropped bigint[] := '{}';
        v_gpu_free int[];
        v_gpu_n int;
        -- The GPU indexes given to each chosen task ('' for none), beside c_task.
        c_gpus text[] := '{}';`,
  ],
  [
    `select j.id, j.machine_limit, j.tasks_queued, j.uses_limits from jobs as j`,
    `select j.id, j.machine_limit, j.tasks_queued, j.uses_limits, j.uses_capacity,
                j.req_gpus from jobs as j`,
  ],
  [
    `select array_agg(s.id order by s.task_index),`,
    `if cand.uses_capacity <> 0 then
                v_room := least(v_room, drover_capacity_room(nd.id, nd.cpus, nd.mem, nd.gpus,
                  cand.id, c_job, c_node));
                if v_room <= 0 then continue; end if;
              end if;
              select array_agg(s.id order by s.task_index),`,
  ],
  [
    `c_claim := c_claim || array_fill(i, array[v_n]);`,
    `if cand.uses_capacity <> 0 and cand.req_gpus > 0 then
                -- Before c_node takes these tasks: the indexes this group gave out so far.
                v_gpu_free := drover_free_gpus(nd.id, floor(nd.gpus)::int, c_node, c_gpus);
                v_gpu_n := ceil(cand.req_gpus)::int;
                c_gpus := c_gpus || array(select array_to_string(
                    v_gpu_free[(k - 1) * v_gpu_n + 1 : k * v_gpu_n], ',')
                  from generate_series(1, v_n) k order by k);
              else
                c_gpus := c_gpus || array_fill(''::text, array[v_n]);
              end if;
              c_claim := c_claim || array_fill(i, array[v_n]);`,
  ],
  [
    `log_lines, created_at, started_at, ended_at, last_heartbeat, last_modified)`,
    `log_lines, created_at, started_at, ended_at, last_heartbeat, last_modified, gpu_ids)`,
  ],
  [
    `p_now, p_now
            from (select u.t, u.n, u.s, row_number() over (order by u.o) as ord
              from unnest(c_job, c_task, c_node, c_start) with ordinality u(j, t, n, s, o)`,
    `p_now, p_now, c.g
            from (select u.t, u.n, u.s, u.g, row_number() over (order by u.o) as ord
              from unnest(c_job, c_task, c_node, c_start, c_gpus) with ordinality
                u(j, t, n, s, g, o)`,
  ],
];
