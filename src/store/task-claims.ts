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
  node: NodeRow,
  pools: readonly string[],
  groups: readonly string[],
  excludeJobIds: readonly number[],
  limit: number,
): Promise<DispatchableJob[]> {
  let q = db
    .selectFrom('jobs as j')
    .select(['j.id', 'j.machine_limit'])
    .where('j.state', 'in', DISPATCHABLE_JOB_STATES)
    .where('j.deleted_at', 'is', null)
    .where('j.tasks_queued', '>', 0)
    .where((eb) => eb.or([eb('j.pool', '=', ''), eb('j.pool', 'in', pools.length ? pools : [''])]))
    .where((eb) => eb.or([eb('j.grp', '=', ''), eb('j.grp', 'in', groups.length ? groups : [''])]))
    .where('j.req_cpus', '<=', node.cpus)
    .where('j.req_mem', '<=', node.mem)
    .where('j.req_disk', '<=', node.disk)
    .where('j.req_gpus', '<=', node.gpus)
    .where(({ eb, or, and, exists, not, selectFrom }) => {
      const listed = exists(
        selectFrom('job_node_list as l')
          .select(sql`1`.as('one'))
          .whereRef('l.job_id', '=', 'j.id')
          .where('l.node_name', '=', node.name),
      );
      return or([
        eb('j.node_list_mode', '=', 'NONE'),
        and([eb('j.node_list_mode', '=', 'ALLOW'), listed]),
        and([eb('j.node_list_mode', '=', 'DENY'), not(listed)]),
      ]);
    })
    // Jobs at their machine limit (for this node) are left out here, so that many of them
    // ahead in the order cannot starve a node.
    .where(({ eb, or, exists, selectFrom }) =>
      or([
        eb('j.machine_limit', '=', 0),
        exists(
          selectFrom('executions as x')
            .select(sql`1`.as('one'))
            .whereRef('x.job_id', '=', 'j.id')
            .where('x.node_id', '=', node.id)
            .where('x.state', 'in', LIVE_EXECUTION_STATES),
        ),
        eb(
          selectFrom('executions as x')
            .select((x) => x.fn.count<number>('x.node_id').distinct().as('n'))
            .whereRef('x.job_id', '=', 'j.id')
            .where('x.node_id', '!=', node.id)
            .where('x.state', 'in', LIVE_EXECUTION_STATES),
          '<',
          eb.ref('j.machine_limit'),
        ),
      ]),
    );
  if (excludeJobIds.length > 0) q = q.where('j.id', 'not in', excludeJobIds);
  const rows = await q
    .orderBy('j.priority', 'desc')
    .orderBy('j.created_at')
    .orderBy('j.id')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ id: Number(r.id), machine_limit: r.machine_limit }));
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
 * `n` queued tasks of the job go to nodes: counters move and the job's execution number
 * advances by `n`, in one statement that also locks the job row (PostgreSQL) until commit.
 * The execution numbers of the claim are the `n` numbers up to the returned `num_exes`.
 */
export async function claimQueuedTasks(
  tx: Executor,
  jobId: number,
  n: number,
  now: number,
): Promise<JobRow> {
  return tx
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

/**
 * The claimed tasks are RUNNING on the node, each pointing at its own execution: one
 * statement for the batch, each task finding its live execution through `executions_task`
 * (one statement per task cost a round trip each on PostgreSQL).
 */
export async function markTasksRunning(
  tx: Executor,
  taskIds: readonly number[],
  nodeId: number,
  now: number,
): Promise<void> {
  await tx
    .updateTable('tasks')
    .set((eb) => ({
      state: 'RUNNING',
      node_id: nodeId,
      last_execution_id: eb
        .selectFrom('executions as e')
        .select((x) => x.fn.max('e.id').as('id'))
        .whereRef('e.task_id', '=', 'tasks.id')
        .where('e.state', 'in', LIVE_EXECUTION_STATES),
      progress: 0,
      started_at: now,
      ended_at: null,
      last_status_change: now,
      last_modified: now,
    }))
    .where('id', 'in', taskIds)
    .execute();
}

/** How many live executions the node holds: its slots in use. */
export async function liveExecutionCount(db: Executor, nodeId: number): Promise<number> {
  const row = await db
    .selectFrom('executions')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('node_id', '=', nodeId)
    .where('state', 'in', LIVE_EXECUTION_STATES)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
