import { sql } from 'kysely';
import { LIVE_EXECUTION_STATES } from '../domain/execution-state.js';
import { DISPATCHABLE_JOB_STATES } from '../domain/job-state.js';
import { compiledQuery } from './compiled-queries.js';
import type { DialectName, Executor, Tx } from './database.js';
import type { ExecutionRow, JobRow, NodeRow, TaskRow } from './schema.js';

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
  const rows = await DISPATCHABLE_JOBS[dialect].execute(
    db,
    node.id,
    node.name,
    [node.cpus, node.mem, node.disk, node.gpus],
    pools.length ? [...pools] : [''],
    groups.length ? [...groups] : [''],
    [...excludeJobIds],
    limit,
  );
  return rows.map((r) => ({ id: Number(r.id), machine_limit: Number(r.machine_limit) }));
}

const DISPATCHABLE_JOBS = {
  sqlite: dispatchableJobsQuery('sqlite'),
  postgres: dispatchableJobsQuery('postgres'),
};

function dispatchableJobsQuery(dialect: DialectName) {
  const live = sql.raw(LIVE_EXECUTION_STATES.map((s) => `'${s}'`).join(', '));
  // The states are literals, not parameters: a partial index serves only a query whose
  // predicate visibly implies the index's, and PostgreSQL's generic plan for a prepared
  // statement cannot see through parameters. SQLite's planner, even with statistics,
  // preferred `jobs_deleted_at` and sorted every dispatchable job (a temp B-tree per claim),
  // so it is told which index to walk.
  const dispatchable = sql.raw(DISPATCHABLE_JOB_STATES.map((s) => `'${s}'`).join(', '));
  const indexed = sql.raw(dialect === 'sqlite' ? 'indexed by jobs_dispatchable' : '');
  return compiledQuery(
    (
      _db,
      nodeId: number,
      nodeName: string,
      [cpus, mem, disk, gpus]: number[],
      pools: string[],
      groups: string[],
      excludeJobIds: number[],
      limit: number,
    ) => {
      const list = (values: readonly (string | number)[]) => sql.join(values.map((v) => sql`${v}`));
      const listed = sql`exists (select 1 from job_node_list l where l.job_id = j.id and l.node_name = ${nodeName})`;
      return sql<DispatchableJob>`
        select j.id, j.machine_limit from jobs as j ${indexed}
        where j.state in (${dispatchable}) and j.deleted_at is null and j.tasks_queued > 0
          and (j.pool = '' or j.pool in (${list(pools)}))
          and (j.grp = '' or j.grp in (${list(groups)}))
          and j.req_cpus <= ${cpus} and j.req_mem <= ${mem}
          and j.req_disk <= ${disk} and j.req_gpus <= ${gpus}
          and (j.node_list_mode = 'NONE'
            or (j.node_list_mode = 'ALLOW' and ${listed})
            or (j.node_list_mode = 'DENY' and not ${listed}))
          and (j.machine_limit = 0
            or exists (select 1 from executions x
              where x.job_id = j.id and x.node_id = ${nodeId} and x.state in (${live}))
            or (select count(distinct x.node_id) from executions x
              where x.job_id = j.id and x.node_id <> ${nodeId} and x.state in (${live})
                and (j.machine_limit_release < 0 or x.progress < j.machine_limit_release))
              < j.machine_limit)
          ${excludeJobIds.length > 0 ? sql`and j.id not in (${list(excludeJobIds)})` : sql``}
        order by j.priority desc, j.created_at, j.id
        limit ${limit}
      `;
    },
  );
}

/**
 * SQLite: whether any job that can hand out work has a machine limit or a node list, so
 * that which jobs a node may take depends on the node itself (read through the partial
 * index `jobs_node_specific`, migration 0019: one entry, not a walk of the queue).
 */
export async function nodeSpecificJobsExist(tx: Executor): Promise<boolean> {
  return (await NODE_SPECIFIC_JOB.executeTakeFirst(tx)) !== undefined;
}

const NODE_SPECIFIC_JOB = compiledQuery(
  () => sql<{ id: number }>`
    select id from jobs indexed by jobs_node_specific
    where state in ('QUEUED', 'RUNNING') and deleted_at is null
      and (machine_limit > 0 or node_list_mode <> 'NONE')
    limit 1
  `,
);

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
  return QUEUED_TASKS[dialect].execute(tx, jobId, limit);
}

function queuedTasksQuery(dialect: DialectName) {
  return compiledQuery((db, jobId: number, limit: number) => {
    const q = db
      .selectFrom('tasks')
      .selectAll()
      .where('job_id', '=', jobId)
      .where('state', '=', 'QUEUED')
      .orderBy('task_index')
      .limit(limit);
    return dialect === 'postgres' ? q.forUpdate().skipLocked() : q;
  });
}

const QUEUED_TASKS = { sqlite: queuedTasksQuery('sqlite'), postgres: queuedTasksQuery('postgres') };

/** What a claim writes: who takes which tasks, and how the executions start. */
export interface TaskClaim {
  jobId: number;
  /** QUEUED tasks of the job, held by this transaction, in the order they are numbered. */
  taskIds: readonly number[];
  nodeId: number;
  /** ACQUIRED, or RUNNING for a claim that starts its executions. */
  state: 'ACQUIRED' | 'RUNNING';
  leaseExpiresAt: number;
  now: number;
  /**
   * PostgreSQL: give up at once, rather than wait, when another transaction holds the
   * job's row (the caller then looks elsewhere). Claims share transactions (GroupCommit),
   * so a claim that waited on a job held by another group, while its own group held a job
   * that group wanted next, would deadlock; one that never waits cannot.
   */
  skipLockedJob?: boolean;
}

/**
 * The writes of a claim: an execution per task (its lease; its id is the fencing token),
 * numbered after the job's last, the tasks RUNNING and pointing at them, and the job's
 * counters moved. Answers the executions in the order of `taskIds`, and the job's row as
 * it now is.
 *
 * On PostgreSQL this is one statement. The update of the job's counters locks its row until
 * commit, and every other claim and finish of the job queues on that lock: done first, in
 * a statement of its own, the lock was held across the round trips of every later write of
 * the claim (each one a turn of a busy server's event loop), and most backends were found
 * waiting on it. SQLite runs one transaction at a time and has no such lock; it writes the
 * same rows in three statements.
 */
export async function claimTasks(
  tx: Executor,
  dialect: DialectName,
  claim: TaskClaim,
): Promise<{ executions: ExecutionRow[]; job: JobRow } | undefined> {
  return dialect === 'postgres' ? claimInOneStatement(tx, claim) : claimStepByStep(tx, claim);
}

async function claimInOneStatement(
  tx: Executor,
  c: TaskClaim,
): Promise<{ executions: ExecutionRow[]; job: JobRow } | undefined> {
  const n = c.taskIds.length;
  const startedAt = c.state === 'RUNNING' ? c.now : null;
  const claim = c.skipLockedJob ? CLAIM_UNLESS_JOB_LOCKED : CLAIM_IN_ONE_STATEMENT;
  const rows = await claim.execute(
    tx,
    c.jobId,
    n,
    c.nodeId,
    c.state,
    c.leaseExpiresAt,
    c.now,
    startedAt,
    [...c.taskIds],
  );
  if (rows.length === 0 && c.skipLockedJob) return undefined;
  if (rows.length !== n) {
    throw new Error(`a claim of ${n} tasks of job ${c.jobId} wrote ${rows.length} executions`);
  }
  const job = rows[0]!.job_json;
  const executions = rows.map(({ job_json: _, ...execution }) => execution as ExecutionRow);
  return { executions, job };
}

function claimQuery(lockJob: 'for update' | 'for update skip locked') {
  return compiledQuery(
    (
      _db,
      jobId: number,
      n: number,
      nodeId: number,
      state: string,
      leaseExpiresAt: number,
      now: number,
      startedAt: number | null,
      taskIds: number[],
    ) => sql<ExecutionRow & { job_json: JobRow }>`
    with l as (
      select id from jobs where id = ${jobId} ${sql.raw(lockJob)}
    ), j as (
      update jobs set num_exes = num_exes + ${n}, tasks_queued = tasks_queued - ${n},
        tasks_running = tasks_running + ${n}
      where id in (select id from l) returning *
    ), x as (
      insert into executions (job_id, task_id, node_id, exe_num, state, lease_expires_at,
        progress, exit_code, error_name, error_message, timed_out, log_lines, created_at,
        started_at, ended_at, last_heartbeat, last_modified)
      select j.id, v.task_id, ${nodeId}, j.num_exes - ${n} + v.ord, ${state},
        ${leaseExpiresAt}, 0, null, null, null, 0, 0, ${now},
        cast(${startedAt} as bigint), null, ${now}, ${now}
      from j, unnest(cast(${taskIds} as bigint[])) with ordinality as v(task_id, ord)
      returning *
    ), t as (
      update tasks set state = 'RUNNING', node_id = ${nodeId}, progress = 0,
        started_at = ${now}, ended_at = null, last_status_change = ${now},
        last_modified = ${now}, last_execution_id = x.id
      from x where tasks.id = x.task_id
    )
    select x.*, (select row_to_json(j) from j) as job_json from x order by x.exe_num
  `,
  );
}

const CLAIM_IN_ONE_STATEMENT = claimQuery('for update');
const CLAIM_UNLESS_JOB_LOCKED = claimQuery('for update skip locked');

async function claimStepByStep(
  tx: Executor,
  c: TaskClaim,
): Promise<{ executions: ExecutionRow[]; job: JobRow }> {
  const n = c.taskIds.length;
  const job = await CLAIM_JOB_COUNTERS.executeTakeFirst(tx, c.jobId, n);
  if (!job) throw new Error(`job ${c.jobId} vanished while its tasks were claimed`);
  const executions = await INSERT_EXECUTIONS.execute(
    tx,
    [...c.taskIds],
    c.taskIds.map((_, i) => job.num_exes - n + 1 + i),
    c.jobId,
    c.nodeId,
    c.state,
    c.leaseExpiresAt,
    c.now,
    c.state === 'RUNNING' ? c.now : null,
  );
  await TASKS_RUNNING.execute(
    tx,
    executions.map((e) => e.task_id),
    executions.map((e) => e.id),
    c.nodeId,
    c.now,
  );
  const byTask = new Map(executions.map((e) => [e.task_id, e]));
  return { executions: c.taskIds.map((id) => byTask.get(id)!), job };
}

// Not last_modified: see JobsTable.
const CLAIM_JOB_COUNTERS = compiledQuery((db, jobId: number, n: number) =>
  db
    .updateTable('jobs')
    .set((eb) => ({
      num_exes: eb('num_exes', '+', n),
      tasks_queued: eb('tasks_queued', '-', n),
      tasks_running: eb('tasks_running', '+', n),
    }))
    .where('id', '=', jobId)
    .returningAll(),
);

const INSERT_EXECUTIONS = compiledQuery(
  (
    db,
    taskIds: number[],
    exeNums: number[],
    jobId: number,
    nodeId: number,
    state: string,
    leaseExpiresAt: number,
    now: number,
    startedAt: number | null,
  ) =>
    db
      .insertInto('executions')
      .values(
        taskIds.map((taskId, i) => ({
          job_id: jobId,
          task_id: taskId,
          node_id: nodeId,
          exe_num: exeNums[i]!,
          state,
          lease_expires_at: leaseExpiresAt,
          progress: 0,
          exit_code: null,
          error_name: null,
          error_message: null,
          timed_out: 0,
          log_lines: 0,
          created_at: now,
          started_at: startedAt,
          ended_at: null,
          last_heartbeat: now,
          last_modified: now,
        })),
      )
      .returningAll(),
);

const TASKS_RUNNING = compiledQuery(
  (db, taskIds: number[], executionIds: number[], nodeId: number, now: number) =>
    db
      .updateTable('tasks')
      .set({
        state: 'RUNNING',
        node_id: nodeId,
        progress: 0,
        started_at: now,
        ended_at: null,
        last_status_change: now,
        last_modified: now,
        last_execution_id: sql<number>`case id ${sql.join(
          taskIds.map((t, i) => sql`when ${t} then ${executionIds[i]}`),
          sql` `,
        )} end`,
      })
      .where('id', 'in', taskIds),
);

/** The node, and how many live executions it holds (its slots in use), in one read. */
export async function nodeForClaim(
  db: Executor,
  nodeId: number,
): Promise<{ node: NodeRow; live: number } | undefined> {
  const row = await NODE_FOR_CLAIM.executeTakeFirst(db, nodeId);
  if (!row) return undefined;
  const { live, ...node } = row;
  return { node, live: Number(live ?? 0) };
}

const NODE_FOR_CLAIM = compiledQuery((db, nodeId: number) =>
  db
    .selectFrom('nodes as n')
    .selectAll('n')
    .select((eb) =>
      eb
        .selectFrom('executions as x')
        .select((x) => x.fn.countAll<number>().as('live'))
        .whereRef('x.node_id', '=', 'n.id')
        // Reaches the partial index executions_live (migration 0021).
        .where('x.ended_at', 'is', null)
        .where('x.state', 'in', LIVE_EXECUTION_STATES)
        .as('live'),
    )
    .where('n.id', '=', nodeId),
);

/** One node's claim in a group of claims written together (PostgreSQL: claimGroup). */
export interface GroupClaim {
  nodeId: number;
  /** Up to this many tasks (at most the node's free slots, and at most `maxClaim`). */
  max: number;
  /** The executions start RUNNING. */
  start: boolean;
}

/** What one claim of a group saw and took. */
export interface GroupClaimResult {
  /** The node exists. */
  found: boolean;
  /** The node's state before the claim (a claim marks it ONLINE). */
  priorState: string | null;
  enabled: boolean;
  /** It passed over queued tasks or a job that other transactions held. */
  contended: boolean;
  taken: { execution: ExecutionRow; task: TaskRow; job: JobRow; queuedAt: number }[];
}

/** The bounds of a claim's walk of the queue (engine/dispatcher.ts). */
export interface ClaimWalk {
  now: number;
  leaseExpiresAt: number;
  /** A node whose recorded heartbeat is older than this is marked alive again. */
  heartbeatBefore: number;
  maxClaim: number;
  maxSkippedJobs: number;
  jobsPerLook: number;
}

/**
 * PostgreSQL: every claim of a group in one round trip, through `drover_claim` (migration
 * 0015, as rewritten in 0019), which walks the queue for each claim in turn exactly as the
 * dispatcher's claim does statement by statement on SQLite.
 */
export async function claimGroup(
  tx: Executor,
  claims: readonly GroupClaim[],
  walk: ClaimWalk,
): Promise<GroupClaimResult[]> {
  const rows = await CLAIM_GROUP.execute(
    tx,
    claims.map((c) => c.nodeId),
    claims.map((c) => c.max),
    claims.map((c) => c.start),
    walk.now,
    walk.leaseExpiresAt,
    walk.heartbeatBefore,
    walk.maxClaim,
    walk.maxSkippedJobs,
    walk.jobsPerLook,
  );
  return rows.map((r) => ({
    found: r.o_found,
    priorState: r.o_prior_state,
    enabled: r.o_enabled === 1,
    contended: r.o_contended,
    taken: r.o_taken.flatMap(({ j, x }) =>
      x.map(({ e, t, q }) => ({ execution: e, task: t, job: j, queuedAt: q })),
    ),
  }));
}

interface ClaimGroupRow {
  o_found: boolean;
  o_prior_state: string | null;
  o_enabled: number;
  o_contended: boolean;
  /** Per job it took tasks of, in the order taken (migration 0019). */
  o_taken: { j: JobRow; x: { e: ExecutionRow; t: TaskRow; q: number }[] }[];
}

const CLAIM_GROUP = compiledQuery(
  (
    _db,
    nodeIds: number[],
    maxes: number[],
    starts: boolean[],
    now: number,
    leaseExpiresAt: number,
    heartbeatBefore: number,
    maxClaim: number,
    maxSkippedJobs: number,
    jobsPerLook: number,
  ) => sql<ClaimGroupRow>`
      select * from drover_claim(cast(${nodeIds} as bigint[]), cast(${maxes} as int[]),
        cast(${starts} as boolean[]), cast(${now} as bigint),
        cast(${leaseExpiresAt} as bigint), cast(${heartbeatBefore} as bigint),
        cast(${maxClaim} as int), cast(${maxSkippedJobs} as int), cast(${jobsPerLook} as int))
      order by o_claim
    `,
);
