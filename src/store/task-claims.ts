import { sql } from 'kysely';
import { compiledQuery } from './compiled-queries.js';
import type { DialectName, Executor } from './database.js';
import type { ExecutionRow, JobRow } from './schema.js';

/*
 * The writes of a claim: the tasks it took become RUNNING on the node, each with a new
 * execution, and the job's counters move. What the claim reads first is in claim-looks.ts.
 */

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
  return claimTasksOfNodes(
    tx,
    c.jobId,
    c.taskIds.map((taskId) => ({
      taskId,
      nodeId: c.nodeId,
      state: c.state,
      leaseExpiresAt: c.leaseExpiresAt,
    })),
    c.now,
  );
}

/** One task of a claim by several nodes at once (claimTasksOfNodes). */
export interface NodeTaskClaim {
  taskId: number;
  nodeId: number;
  state: 'ACQUIRED' | 'RUNNING';
  leaseExpiresAt: number;
}

/**
 * SQLite: the writes of the claims of one job's QUEUED tasks by any nodes, in three
 * statements whatever their number: the job's counters, the executions (numbered after the
 * job's last, in the order given) and the tasks. Answers the executions in that order and
 * the job's row as it now is. The dispatcher writes a transaction's claims of a job
 * together (dispatch/claim-writes.ts): claim by claim, these three statements were most of
 * a claim's cost.
 */
export async function claimTasksOfNodes(
  tx: Executor,
  jobId: number,
  claims: readonly NodeTaskClaim[],
  now: number,
): Promise<{ executions: ExecutionRow[]; job: JobRow }> {
  const n = claims.length;
  const job = await CLAIM_JOB_COUNTERS.executeTakeFirst(tx, jobId, n);
  if (!job) throw new Error(`job ${jobId} vanished while its tasks were claimed`);
  const executions = await INSERT_EXECUTIONS.execute(
    tx,
    claims.map((c) => c.taskId),
    claims.map((_, i) => job.num_exes - n + 1 + i),
    claims.map((c) => c.nodeId),
    claims.map((c) => c.state),
    claims.map((c) => c.leaseExpiresAt),
    claims.map((c) => (c.state === 'RUNNING' ? now : null)),
    jobId,
    now,
  );
  const byTask = new Map(executions.map((e) => [e.task_id, e]));
  const ordered = claims.map((c) => byTask.get(c.taskId)!);
  await TASKS_RUNNING.execute(
    tx,
    ordered.map((e) => e.task_id),
    ordered.map((e) => e.id),
    ordered.map((e) => e.node_id),
    now,
  );
  return { executions: ordered, job };
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
    nodeIds: number[],
    states: string[],
    leaseExpiresAts: number[],
    startedAts: (number | null)[],
    jobId: number,
    now: number,
  ) =>
    db
      .insertInto('executions')
      .values(
        taskIds.map((taskId, i) => ({
          job_id: jobId,
          task_id: taskId,
          node_id: nodeIds[i]!,
          exe_num: exeNums[i]!,
          state: states[i]!,
          lease_expires_at: leaseExpiresAts[i]!,
          progress: 0,
          exit_code: null,
          error_name: null,
          error_message: null,
          timed_out: 0,
          log_lines: 0,
          created_at: now,
          started_at: startedAts[i] ?? null,
          ended_at: null,
          last_heartbeat: now,
          last_modified: now,
          gpu_ids: '',
        })),
      )
      .returningAll(),
);

const TASKS_RUNNING = compiledQuery(
  (db, taskIds: number[], executionIds: number[], nodeIds: number[], now: number) => {
    const byTask = (values: number[]) =>
      sql<number>`case id ${sql.join(
        taskIds.map((t, i) => sql`when ${t} then ${values[i]}`),
        sql` `,
      )} end`;
    return db
      .updateTable('tasks')
      .set({
        state: 'RUNNING',
        node_id: byTask(nodeIds),
        progress: 0,
        started_at: now,
        ended_at: null,
        last_status_change: now,
        last_modified: now,
        last_execution_id: byTask(executionIds),
      })
      .where('id', 'in', taskIds);
  },
);
