import { sql } from 'kysely';
import { LIVE_EXECUTION_STATES } from '../domain/execution-state.js';
import { DISPATCHABLE_JOB_STATES } from '../domain/job-state.js';
import type { DialectName, Executor, Tx } from './database.js';
import type { ExecutionRow, ExecutionsTable, JobRow, NodeRow, TaskRow } from './schema.js';

/*
 * The statements of a claim: which jobs a node may take work from, which of their tasks,
 * and the writes that hand them out. A claim reads a few index entries whatever the depth
 * of the queue: jobs are walked in dispatch order through `jobs_dispatchable` (only the
 * jobs that can hand out work are in it), and a job's queued tasks in task order through
 * `tasks_job_state`. The older single query joined every queued task to its job and sorted
 * them all: 8–12.5 ms per acquire with one job of 100,000 tasks on SQLite, and a 13 MB
 * external sort (86 ms) on PostgreSQL.
 */

/** A job the node may take work from, with what the claim must re-check under its lock. */
export interface DispatchableJob {
  id: number;
  machine_limit: number;
}

/**
 * Up to `limit` jobs with queued tasks that this node may run, best first: priority (higher
 * first), then submission time. The node must be in the job's pool and group (empty means
 * any), cover its resources, be admitted by its allow/deny list, and the job must be below
 * its machine limit unless the node already works on it. The caller re-checks the machine
 * limit under the job's lock, since counting rows here cannot see concurrent claims.
 */
export async function dispatchableJobs(
  db: Executor,
  dialect: DialectName,
  node: NodeRow,
  pools: readonly string[],
  groups: readonly string[],
  excludeJobIds: readonly number[],
  limit: number,
): Promise<DispatchableJob[]> {
  const list = (values: readonly (string | number)[]) => sql.join(values.map((v) => sql`${v}`));
  const live = sql.raw(LIVE_EXECUTION_STATES.map((s) => `'${s}'`).join(', '));
  // The states are literals, not parameters: a partial index serves only a query whose
  // predicate visibly implies the index's, and PostgreSQL's generic plan for a prepared
  // statement cannot see through parameters. SQLite's planner, even with statistics,
  // preferred `jobs_deleted_at` and sorted every dispatchable job (a temp B-tree per claim),
  // so it is told which index to walk.
  const dispatchable = sql.raw(DISPATCHABLE_JOB_STATES.map((s) => `'${s}'`).join(', '));
  const indexed = sql.raw(dialect === 'sqlite' ? 'indexed by jobs_dispatchable' : '');
  const listed = sql`exists (select 1 from job_node_list l where l.job_id = j.id and l.node_name = ${node.name})`;
  const { rows } = await sql<DispatchableJob>`
    select j.id, j.machine_limit from jobs as j ${indexed}
    where j.state in (${dispatchable}) and j.deleted_at is null and j.tasks_queued > 0
      and (j.pool = '' or j.pool in (${list(pools.length ? pools : [''])}))
      and (j.grp = '' or j.grp in (${list(groups.length ? groups : [''])}))
      and j.req_cpus <= ${node.cpus} and j.req_mem <= ${node.mem}
      and j.req_disk <= ${node.disk} and j.req_gpus <= ${node.gpus}
      and (j.node_list_mode = 'NONE'
        or (j.node_list_mode = 'ALLOW' and ${listed})
        or (j.node_list_mode = 'DENY' and not ${listed}))
      and (j.machine_limit = 0
        or exists (select 1 from executions x
          where x.job_id = j.id and x.node_id = ${node.id} and x.state in (${live}))
        or (select count(distinct x.node_id) from executions x
          where x.job_id = j.id and x.node_id <> ${node.id} and x.state in (${live})) < j.machine_limit)
      ${excludeJobIds.length > 0 ? sql`and j.id not in (${list(excludeJobIds)})` : sql``}
    order by j.priority desc, j.created_at, j.id
    limit ${limit}
  `.execute(db);
  return rows.map((r) => ({ id: Number(r.id), machine_limit: Number(r.machine_limit) }));
}

/**
 * Up to `limit` QUEUED tasks of one job in task order. PostgreSQL locks them and skips
 * those another claim has locked (FOR UPDATE SKIP LOCKED), so claims never wait on each
 * other's tasks; SQLite runs one transaction at a time.
 */
export async function queuedTasksOf(
  tx: Tx,
  dialect: DialectName,
  jobId: number,
  limit: number,
): Promise<TaskRow[]> {
  const q = tx
    .selectFrom('tasks')
    .selectAll()
    .where('job_id', '=', jobId)
    .where('state', '=', 'QUEUED')
    .orderBy('task_index')
    .limit(limit);
  return (dialect === 'postgres' ? q.forUpdate().skipLocked() : q).execute();
}

/**
 * The claim's last write: the job's counters move by the executions just inserted, its
 * execution number advances by as many, and those executions are numbered in the order
 * given (they were inserted with exe_num 0). Answers the job's row as it now is.
 *
 * It comes last because on PostgreSQL it locks the job's row until commit, and every other
 * claim and finish of the job queues on that lock: taken first, the lock was held across
 * the inserts and updates of the whole claim. PostgreSQL does it in one statement (a
 * data-modifying CTE), so the lock is held for that statement and the commit.
 */
export async function claimQueuedTasks(
  tx: Executor,
  dialect: DialectName,
  jobId: number,
  executionIds: readonly number[],
  now: number,
): Promise<JobRow> {
  const n = executionIds.length;
  if (dialect === 'postgres') {
    const { rows } = await sql<JobRow>`
      with j as (
        update jobs set num_exes = num_exes + ${n}, tasks_queued = tasks_queued - ${n},
          tasks_running = tasks_running + ${n}, last_modified = ${now}
        where id = ${jobId} returning *
      ), numbered as (
        update executions x set exe_num = j.num_exes - ${n} + v.ord
        from j, unnest(cast(${[...executionIds]} as bigint[])) with ordinality as v(id, ord)
        where x.id = v.id
      )
      select * from j
    `.execute(tx);
    if (!rows[0]) throw new Error(`job ${jobId} vanished during a claim`);
    return rows[0];
  }
  const job = await tx
    .updateTable('jobs')
    .set((eb) => ({
      num_exes: eb('num_exes', '+', n),
      tasks_queued: eb('tasks_queued', '-', n),
      tasks_running: eb('tasks_running', '+', n),
      last_modified: now,
    }))
    .where('id', '=', jobId)
    .returningAll()
    .executeTakeFirstOrThrow();
  const numbers = sql.join(
    executionIds.map((id, i) => sql`when ${id} then ${job.num_exes - n + 1 + i}`),
    sql` `,
  );
  await tx
    .updateTable('executions')
    .set({ exe_num: sql<number>`case id ${numbers} end` })
    .where('id', 'in', executionIds)
    .execute();
  return job;
}

export async function insertExecutions(
  tx: Executor,
  rows: readonly Omit<ExecutionsTable, 'id'>[],
): Promise<ExecutionRow[]> {
  if (rows.length === 0) return [];
  return tx
    .insertInto('executions')
    .values([...rows])
    .returningAll()
    .execute();
}

/** What a claimed task's row becomes, besides the execution it points at. */
export type RunningTaskPatch = Pick<
  TaskRow,
  | 'state'
  | 'node_id'
  | 'progress'
  | 'started_at'
  | 'ended_at'
  | 'last_status_change'
  | 'last_modified'
>;

/**
 * The claimed tasks take `patch`, each pointing at its own execution: one statement for the
 * batch (one per task cost a round trip each on PostgreSQL), the execution ids given, not
 * looked up again.
 */
export async function markTasksRunning(
  tx: Executor,
  executions: readonly Pick<ExecutionRow, 'id' | 'task_id'>[],
  patch: RunningTaskPatch,
): Promise<void> {
  const pointers = sql.join(
    executions.map((e) => sql`when ${e.task_id} then cast(${e.id} as bigint)`),
    sql` `,
  );
  await tx
    .updateTable('tasks')
    .set({ ...patch, last_execution_id: sql<number>`case id ${pointers} end` })
    .where(
      'id',
      'in',
      executions.map((e) => e.task_id),
    )
    .execute();
}

/** The node, and how many live executions it holds (its slots in use), in one read. */
export async function nodeForClaim(
  db: Executor,
  nodeId: number,
): Promise<{ node: NodeRow; live: number } | undefined> {
  const row = await db
    .selectFrom('nodes as n')
    .selectAll('n')
    .select((eb) =>
      eb
        .selectFrom('executions as x')
        .select((x) => x.fn.countAll<number>().as('live'))
        .whereRef('x.node_id', '=', 'n.id')
        .where('x.state', 'in', LIVE_EXECUTION_STATES)
        .as('live'),
    )
    .where('n.id', '=', nodeId)
    .executeTakeFirst();
  if (!row) return undefined;
  const { live, ...node } = row;
  return { node, live: Number(live ?? 0) };
}
