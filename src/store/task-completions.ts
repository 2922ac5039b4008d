import { sql } from 'kysely';
import type { ExecutionUsageColumns } from '../domain/execution-usage.js';
import { compiledQuery } from './compiled-queries.js';
import type { DialectName, Executor } from './database.js';
import { recordExecutionUsage } from './execution-usage.js';
import { completeExecutionRows } from './executions.js';
import { findJob, shiftTaskCounters } from './jobs.js';
import type { ExecutionRow, JobRow } from './schema.js';

/** A live execution that ended well, as its node reported it. */
export interface Completion {
  executionId: number;
  taskId: number;
  exitCode: number | null;
  timedOut: number;
  /** What the node measured; all null when it sent nothing. */
  usage: ExecutionUsageColumns;
}

/**
 * The writes of successes of one job's live executions: the executions COMPLETED, their
 * tasks (those still RUNNING) COMPLETED, the job's counters moved. Answers the job's row as
 * it now is and the ids of the tasks that moved. Callers hold the executions' rows.
 *
 * On PostgreSQL this is one statement, for the reason a claim is (task-claims.ts): the
 * update of the job's counters locks its row until commit, and every claim and finish of
 * the job queues on that lock, so it is held for one statement and the commit. In steps,
 * a batch of finishes was four round trips after the executions were locked; now it is one.
 */
export async function completeExecutionsOfJob(
  tx: Executor,
  dialect: DialectName,
  jobId: number,
  completions: readonly Completion[],
  now: number,
): Promise<{ job: JobRow; taskIds: number[] }> {
  if (dialect === 'postgres') {
    const columns = columnsOf(completions, (c) => c.timedOut);
    const rows = await COMPLETE_IN_ONE_STATEMENT.execute(tx, jobId, now, ...columns);
    if (!rows[0]) throw new Error(`job ${jobId} vanished while its executions completed`);
    return { job: rows[0].job, taskIds: rows[0].task_ids.map(Number) };
  }
  const groups = new Map<string, { exit_code: number | null; timed_out: number; ids: number[] }>();
  for (const c of completions) {
    const key = `${c.exitCode}/${c.timedOut}`;
    const group = groups.get(key) ?? { exit_code: c.exitCode, timed_out: c.timedOut, ids: [] };
    group.ids.push(c.executionId);
    groups.set(key, group);
  }
  for (const { ids, ...patch } of groups.values()) {
    await completeExecutionRows(tx, ids, patch, now);
  }
  // Figures differ per execution, so they cannot share the grouped writes above: one more
  // statement for the lot, and none when no node measured anything.
  await recordExecutionUsage(
    tx,
    completions.map((c) => ({ executionId: c.executionId, ...c.usage })),
  );
  // A group of finishes holds at most a few thousand reports (execution-batches.ts): well
  // inside SQLite's limit of 32,766 bound variables.
  const moved = await COMPLETE_RUNNING_TASKS.execute(
    tx,
    completions.map((c) => c.taskId),
    now,
  );
  const taskIds = moved.map((t) => t.id).sort((a, b) => a - b);
  const job =
    (await shiftTaskCounters(tx, jobId, 'RUNNING', 'COMPLETED', taskIds.length, now, 0, false)) ??
    (await findJob(tx, jobId));
  if (!job) throw new Error(`job ${jobId} vanished while its executions completed`);
  return { job, taskIds };
}

/** A success as a node reported it, recorded only while the execution is its own and live. */
export interface ReportedCompletion {
  executionId: number;
  nodeId: number;
  exitCode: number | null;
  /** The node says the command ran past its timeout (a flag already set stays set). */
  timedOut: boolean;
  usage: ExecutionUsageColumns;
}

/** An execution completeLiveExecutionsLeavingCounters completed. */
export interface CompletedExecution {
  /** The row as it now is. */
  execution: ExecutionRow;
  /** Its state before: ACQUIRED or RUNNING. */
  was: 'ACQUIRED' | 'RUNNING';
  /** Whether its task moved from RUNNING to COMPLETED. */
  taskMoved: boolean;
}

/**
 * PostgreSQL, in the write lane: the fast path of a group of finishes in one statement. It
 * locks the reported executions that are still live, of the node that reports them, with
 * their lease, of jobs whose outputs need no judging (the revision's `judges_outputs`,
 * migration 0041: it replaced a search of each finished task's definition text for
 * `"pattern"`), and records their success as
 * completeExecutionsOfJob does but for the job's counters, which the lane moves at the end of
 * its transaction with its claims' (LaneEnd); any other report is left alone for the caller's
 * one-report path, which reads it again. Those tests were made in JavaScript on rows read by
 * a `select … for update` first: one round trip more in every lane transaction with a
 * finish, while the lane writes one transaction at a time (write-lane.ts).
 */
export async function completeLiveExecutionsLeavingCounters(
  tx: Executor,
  completions: readonly ReportedCompletion[],
  now: number,
): Promise<CompletedExecution[]> {
  if (completions.length === 0) return [];
  const rows = await COMPLETE_LIVE_BUT_COUNTERS.execute(tx, now, ...reportedColumnsOf(completions));
  return rows.map(completedExecution);
}

/** A row of LIVE_COMPLETIONS' `x`, with whether its task moved, as callers take it. */
export function completedExecution({
  was_state,
  task_moved,
  ...execution
}: CompletedExecutionRow): CompletedExecution {
  return { execution, was: was_state, taskMoved: task_moved };
}

export type CompletedExecutionRow = ExecutionRow & {
  was_state: 'ACQUIRED' | 'RUNNING';
  task_moved: boolean;
};

/** The reported completions as LIVE_COMPLETIONS takes them: the nodes, then columnsOf's. */
export function reportedColumnsOf(completions: readonly ReportedCompletion[]) {
  return [
    completions.map((c) => c.nodeId),
    ...columnsOf(completions, (c) => (c.timedOut ? 1 : 0)),
  ] as const;
}

export type ReportedColumns = ReturnType<typeof reportedColumnsOf>;

/*
 * The executions are locked in id order (the lock's rows are sorted before they are
 * locked), as lockExecutions did, so two transactions lock shared executions in one order.
 * A row locked meanwhile by another transaction is tested again on its newest version
 * (PostgreSQL's read-committed recheck), so an execution the reaper just ended is left to
 * the one-report path, which refuses it. A NOTIFY execution flagged while it ran stays
 * flagged (`greatest`).
 *
 * The CTEs `x` (the executions completed, with their state before) and `t` (the ids of their
 * tasks that moved from RUNNING to COMPLETED), for a statement to select from: this one, and
 * the write lane's claim (claim-groups.ts), which then moves the jobs' counters.
 */
export const LIVE_COMPLETIONS = (now: number, [nodeIds, ...columns]: ReportedColumns) => sql`
    r as (
      select * from unnest(cast(${nodeIds} as bigint[]), ${COLUMN_ARRAYS(columns)})
        as r(node_id, ${COLUMN_NAMES})
    ), v as (
      select e.id, e.state as was_state, r.exit_code, greatest(r.timed_out, e.timed_out)
        as timed_out, r.cpu_seconds, r.wall_seconds, r.peak_memory_bytes, r.gpu_seconds
      from executions e join r on r.id = e.id
      where e.node_id = r.node_id and e.ended_at is null and e.state in ('ACQUIRED', 'RUNNING')
        and e.lease_expires_at >= ${now}
        and not exists (
          select 1 from jobs j join job_type_revisions jr on jr.id = j.job_type_rev_id
          where j.id = e.job_id
            and jr.judges_outputs = 1)
      order by e.id
      for update of e
    ), x as (
      update executions e set ${COMPLETED_EXECUTION(now)}
      from v where e.id = v.id
      returning e.*, v.was_state
    ), ${COMPLETED_TASKS(now)}
`;

const COMPLETE_LIVE_BUT_COUNTERS = compiledQuery(
  (_db, now: number, ...columns: ReportedColumns) => sql<CompletedExecutionRow>`
    with ${LIVE_COMPLETIONS(now, columns)}
    select x.*, x.task_id in (select id from t) as task_moved from x order by x.id
  `,
);

/** What nodes reported of each execution, as the statements here take it: an array a column. */
function columnsOf<C extends Omit<Completion, 'taskId' | 'timedOut'>>(
  completions: readonly C[],
  timedOut: (completion: C) => number,
) {
  return [
    completions.map((c) => c.executionId),
    completions.map((c) => c.exitCode),
    completions.map(timedOut),
    completions.map((c) => c.usage.cpu_seconds),
    completions.map((c) => c.usage.wall_seconds),
    completions.map((c) => c.usage.peak_memory_bytes),
    completions.map((c) => c.usage.gpu_seconds),
  ] as const;
}

type Columns = ReturnType<typeof columnsOf>;

/** columnsOf's arrays, typed, as arguments of `unnest`; their names are COLUMN_NAMES. */
const COLUMN_ARRAYS = ([
  executionIds,
  exitCodes,
  timedOuts,
  cpuSeconds,
  wallSeconds,
  peakMemoryBytes,
  gpuSeconds,
]: Columns) => sql`cast(${executionIds} as bigint[]), cast(${exitCodes} as integer[]),
  cast(${timedOuts} as integer[]), cast(${cpuSeconds} as double precision[]),
  cast(${wallSeconds} as double precision[]), cast(${peakMemoryBytes} as bigint[]),
  cast(${gpuSeconds} as double precision[])`;

const COLUMN_NAMES = sql`id, exit_code, timed_out, cpu_seconds, wall_seconds, peak_memory_bytes,
  gpu_seconds`;

/** An execution that ended well, as `v`'s row of what its node reported sets it. */
const COMPLETED_EXECUTION = (now: number) => sql`
  state = 'COMPLETED', progress = 100, exit_code = v.exit_code, timed_out = v.timed_out,
  started_at = coalesce(e.started_at, ${now}), ended_at = ${now}, last_heartbeat = ${now},
  last_modified = ${now}, cpu_seconds = v.cpu_seconds, wall_seconds = v.wall_seconds,
  peak_memory_bytes = v.peak_memory_bytes, gpu_seconds = v.gpu_seconds
`;

/** The tasks of the executions completed in `x` that were RUNNING, completed (`t`). */
const COMPLETED_TASKS = (now: number) => sql`
  t as (
    update tasks set state = 'COMPLETED', progress = 100, ended_at = ${now},
      last_status_change = ${now}, last_modified = ${now}
    where id in (select task_id from x) and state = 'RUNNING'
    returning id
  )
`;

/** The executions completed (`x`) and their tasks (`t`), as executions ids and columns. */
const COMPLETE_EXECUTIONS_AND_TASKS = (now: number, columns: Columns) => sql`
  x as (
    update executions e set ${COMPLETED_EXECUTION(now)}
    from unnest(${COLUMN_ARRAYS(columns)}) as v(${COLUMN_NAMES})
    where e.id = v.id
    returning e.task_id
  ), ${COMPLETED_TASKS(now)}
`;

const COMPLETE_IN_ONE_STATEMENT = compiledQuery(
  (_db, jobId: number, now: number, ...columns: Columns) => sql<{
    job: JobRow;
    task_ids: (number | string)[];
  }>`
    with ${COMPLETE_EXECUTIONS_AND_TASKS(now, columns)}, j as (
      update jobs set tasks_running = tasks_running - (select count(*) from t),
        tasks_completed = tasks_completed + (select count(*) from t)
      where id = ${jobId} returning *
    )
    select row_to_json(j) as job,
      (select coalesce(array_agg(id order by id), '{}') from t) as task_ids
    from j
  `,
);

const COMPLETE_RUNNING_TASKS = compiledQuery((db, taskIds: number[], now: number) =>
  db
    .updateTable('tasks')
    .set({
      state: 'COMPLETED',
      progress: 100,
      ended_at: now,
      last_status_change: now,
      last_modified: now,
    })
    .where('id', 'in', taskIds)
    .where('state', '=', 'RUNNING')
    .returning('id'),
);
