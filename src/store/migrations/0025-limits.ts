import { sql, type CreateTableBuilder, type Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/*
 * Limits (floating licences and other shared resources, docs/scheduling.md): a named count
 * that the running tasks of the jobs naming it consume, one each (`per` TASK) or one per
 * node whatever it runs of them (MACHINE), with an optional allow or deny list of nodes.
 *
 * A job names its limits in job_limits by name, not by id: Deadline's LimitGroups may name
 * a limit not made yet, and such a job waits until it is. `jobs.uses_limits` says whether
 * the job names any, so the claim's walk tests one column of the row it already reads for
 * every job that names none.
 *
 * What is in use is counted, not kept: the RUNNING tasks (a task is RUNNING from its claim
 * to its end) of the jobs naming the limit, through `tasks_job_state`. A counter would have
 * to move with every end of a task in every path that ends one.
 *
 * SQLite: a job naming limits makes what a node may take depend on the node (a limit's
 * node list, a per-machine limit the node already holds), so `jobs_node_specific` (0019)
 * takes it in and the claims of a transaction do not share their first look while one is
 * dispatchable. Its claim counts again within the transaction (one writer at a time).
 *
 * PostgreSQL: `drover_limits_open` is the walk's test (no locks), `drover_limits_room` the
 * claim's: it locks the job's limits (in id order, never waiting: claims share
 * transactions, see store/task-claims.ts) and counts again, so concurrent claims count each
 * other; -1 when another transaction holds one. `drover_claim` (0019, 0021) is defined
 * again with both calls added by replacing anchor texts; the migration fails if any anchor
 * is not found exactly once.
 */

/** [anchor, replacement] pairs for drover_claim; each anchor must occur exactly once. */
const CLAIM_EDITS: [string, string][] = [
  ['v_more boolean;', 'v_more boolean;\n          v_room int;'],
  [
    'select j.id, j.machine_limit from jobs as j',
    'select j.id, j.machine_limit, j.uses_limits from jobs as j',
  ],
  [
    'and j.id <> all(v_skipped)',
    'and (j.uses_limits = 0 or drover_limits_open(j.id, nd.id, nd.name))\n                  and j.id <> all(v_skipped)',
  ],
  [
    'select array_agg(s.id order by s.task_index),',
    `v_room := v_want - v_taken;
                if cand.uses_limits <> 0 then
                  -- Under the limits' locks, concurrent claims count each other.
                  v_room := least(v_room, drover_limits_room(cand.id, nd.id, nd.name));
                  if v_room < 0 then
                    o_contended := true;
                    continue;
                  end if;
                  if v_room = 0 then continue; end if;
                end if;
                select array_agg(s.id order by s.task_index),`,
  ],
  ['order by t.task_index limit v_want - v_taken', 'order by t.task_index limit v_room'],
];

export function limitsSchema(dialect: DialectName) {
  const withId = <T extends string>(table: CreateTableBuilder<T, never>) =>
    dialect === 'postgres'
      ? table.addColumn('id', 'bigint', (c) => c.primaryKey().generatedByDefaultAsIdentity())
      : table.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
  async function up(db: Kysely<unknown>): Promise<void> {
    await withId(db.schema.createTable('limits'))
      .addColumn('name', 'text', (c) => c.notNull().unique())
      .addColumn('max_count', 'integer', (c) => c.notNull())
      // TASK: each running task takes one; MACHINE: each node running any takes one.
      .addColumn('per', 'text', (c) => c.notNull())
      .addColumn('node_list_mode', 'text', (c) => c.notNull().defaultTo('NONE'))
      .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('last_modified', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('limit_nodes')
      .addColumn('limit_id', 'bigint', (c) =>
        c.notNull().references('limits.id').onDelete('cascade'),
      )
      .addColumn('node_name', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('limit_nodes_pk', ['limit_id', 'node_name'])
      .execute();
    await db.schema
      .createTable('job_limits')
      .addColumn('job_id', 'bigint', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
      .addColumn('limit_name', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('job_limits_pk', ['job_id', 'limit_name'])
      .execute();
    await db.schema
      .createIndex('job_limits_name')
      .on('job_limits')
      .columns(['limit_name', 'job_id'])
      .execute();
    await db.schema
      .alterTable('jobs')
      .addColumn('uses_limits', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    if (dialect !== 'postgres') {
      await sql`drop index jobs_node_specific`.execute(db);
      await sql`
        create index jobs_node_specific on jobs (id)
        where state in ('QUEUED', 'RUNNING') and deleted_at is null
          and (machine_limit > 0 or node_list_mode <> 'NONE' or uses_limits <> 0)
      `.execute(db);
      return;
    }
    await sql.raw(LIMITS_OPEN).execute(db);
    await sql.raw(LIMITS_ROOM).execute(db);
    const { rows } = await sql<{ def: string }>`
      select pg_get_functiondef(p.oid) as def from pg_proc p
      where p.proname = 'drover_claim' and p.pronamespace = current_schema()::regnamespace
    `.execute(db);
    if (rows.length !== 1) {
      throw new Error(`0025-limits: expected one drover_claim, found ${rows.length}`);
    }
    let def = rows[0]!.def;
    for (const [anchor, replacement] of CLAIM_EDITS) {
      const found = def.split(anchor).length - 1;
      if (found !== 1) {
        throw new Error(
          `0025-limits: expected drover_claim to hold "${anchor}" once, found it ${found} time(s)`,
        );
      }
      def = def.replace(anchor, replacement);
    }
    await sql.raw(def).execute(db);
  }
  return { up };
}

/** Counts of one limit's use (the running tasks of the jobs naming it), as SQL on `lm`. */
const IN_USE = `(select count(*) from job_limits o
    join tasks t on t.job_id = o.job_id and t.state = 'RUNNING'
    where o.limit_name = lm.name)`;
const NODES_IN_USE = `(select count(distinct t.node_id) from job_limits o
    join tasks t on t.job_id = o.job_id and t.state = 'RUNNING'
    where o.limit_name = lm.name)`;
const NODE_HOLDS = `exists (select 1 from job_limits o
    join tasks t on t.job_id = o.job_id and t.state = 'RUNNING' and t.node_id = p_node
    where o.limit_name = lm.name)`;
const LISTED = `exists (select 1 from limit_nodes ln where ln.limit_id = lm.id
    and ln.node_name = p_node_name)`;

const LIMITS_OPEN = `
  create function drover_limits_open(p_job bigint, p_node bigint, p_node_name text)
  returns boolean language sql stable as $fn$
    select not exists (
      select 1 from job_limits jl left join limits lm on lm.name = jl.limit_name
      where jl.job_id = p_job and (lm.id is null
        or (lm.node_list_mode = 'ALLOW' and not ${LISTED})
        or (lm.node_list_mode = 'DENY' and ${LISTED})
        or (lm.per = 'TASK' and ${IN_USE} >= lm.max_count)
        or (lm.per = 'MACHINE' and not ${NODE_HOLDS} and ${NODES_IN_USE} >= lm.max_count)))
  $fn$`;

const LIMITS_ROOM = `
  create function drover_limits_room(p_job bigint, p_node bigint, p_node_name text)
  returns int language plpgsql as $fn$
  declare
    lm record;
    v_named int;
    v_found int;
    v_locked int;
    v_room int := 2147483647;
  begin
    select count(*), count(l.id) into v_named, v_found
      from job_limits jl left join limits l on l.name = jl.limit_name where jl.job_id = p_job;
    if v_found < v_named then return 0; end if;
    select count(*) into v_locked from (select l.id from limits l
      join job_limits jl on jl.limit_name = l.name and jl.job_id = p_job
      order by l.id for update of l skip locked) s;
    if v_locked < v_found then return -1; end if;
    for lm in select l.* from limits l
        join job_limits jl on jl.limit_name = l.name and jl.job_id = p_job loop
      if (lm.node_list_mode = 'ALLOW' and not ${LISTED})
          or (lm.node_list_mode = 'DENY' and ${LISTED}) then
        return 0;
      end if;
      if lm.per = 'MACHINE' then
        if not ${NODE_HOLDS} and ${NODES_IN_USE} >= lm.max_count then return 0; end if;
      else
        v_room := least(v_room, lm.max_count - ${IN_USE});
        if v_room <= 0 then return 0; end if;
      end if;
    end loop;
    return v_room;
  end $fn$`;
