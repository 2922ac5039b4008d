import { sql } from 'kysely';
import type { ExecutionUsageColumns } from '../domain/execution-usage.js';
import { compiledQuery } from './compiled-queries.js';
import type { DialectName, Executor } from './database.js';
import { recordExecutionUsage } from './execution-usage.js';
import { completeExecutionRows } from './executions.js';
import { findJob, shiftTaskCounters } from './jobs.js';
import type { JobRow } from './schema.js';

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
    const rows = await COMPLETE_IN_ONE_STATEMENT.execute(tx, jobId, now, ...columnsOf(completions));
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

/**
 * PostgreSQL, in the write lane: the writes of completeExecutionsOfJob but the job's
 * counters, which the lane moves at the end of its transaction with its claims' (LaneEnd),
 * so that the job's row is not locked from here to the commit. Answers the ids of the tasks
 * that moved.
 */
export async function completeExecutionsLeavingCounters(
  tx: Executor,
  completions: readonly Completion[],
  now: number,
): Promise<number[]> {
  const rows = await COMPLETE_BUT_COUNTERS.execute(tx, now, ...columnsOf(completions));
  return (rows[0]?.task_ids ?? []).map(Number);
}

/** The completions as the statements below take them: one array per column. */
function columnsOf(completions: readonly Completion[]) {
  return [
    completions.map((c) => c.executionId),
    completions.map((c) => c.exitCode),
    completions.map((c) => c.timedOut),
    completions.map((c) => c.usage.cpu_seconds),
    completions.map((c) => c.usage.wall_seconds),
    completions.map((c) => c.usage.peak_memory_bytes),
    completions.map((c) => c.usage.gpu_seconds),
  ] as const;
}

type Columns = ReturnType<typeof columnsOf>;

/**
 * The executions completed (`x`) and their tasks that were RUNNING (`t`): the common part of
 * both statements below, as the first two of their `with` queries.
 */
const COMPLETE_EXECUTIONS_AND_TASKS = (
  now: number,
  [
    executionIds,
    exitCodes,
    timedOuts,
    cpuSeconds,
    wallSeconds,
    peakMemoryBytes,
    gpuSeconds,
  ]: Columns,
) => sql`
  x as (
    update executions e set state = 'COMPLETED', progress = 100, exit_code = v.exit_code,
      timed_out = v.timed_out, started_at = coalesce(e.started_at, ${now}),
      ended_at = ${now}, last_heartbeat = ${now}, last_modified = ${now},
      cpu_seconds = v.cpu_seconds, wall_seconds = v.wall_seconds,
      peak_memory_bytes = v.peak_memory_bytes, gpu_seconds = v.gpu_seconds
    from unnest(cast(${executionIds} as bigint[]), cast(${exitCodes} as integer[]),
      cast(${timedOuts} as integer[]), cast(${cpuSeconds} as double precision[]),
      cast(${wallSeconds} as double precision[]), cast(${peakMemoryBytes} as bigint[]),
      cast(${gpuSeconds} as double precision[]))
      as v(id, exit_code, timed_out, cpu_seconds, wall_seconds, peak_memory_bytes, gpu_seconds)
    where e.id = v.id
    returning e.task_id
  ), t as (
    update tasks set state = 'COMPLETED', progress = 100, ended_at = ${now},
      last_status_change = ${now}, last_modified = ${now}
    where id in (select task_id from x) and state = 'RUNNING'
    returning id
  )
`;

const COMPLETE_BUT_COUNTERS = compiledQuery(
  (_db, now: number, ...columns: Columns) => sql<{ task_ids: (number | string)[] }>`
    with ${COMPLETE_EXECUTIONS_AND_TASKS(now, columns)}
    select coalesce(array_agg(id order by id), '{}') as task_ids from t
  `,
);

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
