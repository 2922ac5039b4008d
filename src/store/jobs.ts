import { sql } from 'kysely';
import { compiledQuery } from './compiled-queries.js';
import type { DialectName, Executor, Tx } from './database.js';
import type { JobRow, JobUpdate, NewJobRow } from './schema.js';

export async function insertJob(tx: Executor, row: NewJobRow): Promise<number> {
  const { id } = await tx.insertInto('jobs').values(row).returning('id').executeTakeFirstOrThrow();
  return Number(id);
}

export async function findJob(db: Executor, id: number): Promise<JobRow | undefined> {
  return db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Ids bound per query: one `IN` list of more passed SQLite's 32,766 variables (a 500). */
const IDS_PER_QUERY = 1000;

/** The jobs of `ids` that exist, in id order, read in chunks whatever the list's length. */
export async function findJobs(db: Executor, ids: readonly number[]): Promise<JobRow[]> {
  const unique = [...new Set(ids)];
  const found: JobRow[] = [];
  for (let i = 0; i < unique.length; i += IDS_PER_QUERY) {
    const chunk = unique.slice(i, i + IDS_PER_QUERY);
    found.push(...(await db.selectFrom('jobs').selectAll().where('id', 'in', chunk).execute()));
  }
  return found.sort((a, b) => a.id - b.id);
}

/**
 * Reads a job and, with PostgreSQL, locks its row until the transaction ends: every change
 * to a job and its tasks starts here, so changes to one job never interleave. SQLite
 * transactions already run one at a time.
 */
export async function lockJob(
  tx: Tx,
  dialect: DialectName,
  id: number,
): Promise<JobRow | undefined> {
  const query = tx.selectFrom('jobs').selectAll().where('id', '=', id);
  return (dialect === 'postgres' ? query.forUpdate() : query).executeTakeFirst();
}

export async function updateJob(tx: Executor, id: number, patch: JobUpdate): Promise<void> {
  await tx.updateTable('jobs').set(patch).where('id', '=', id).execute();
}

/** The same change on several jobs, in one statement. */
export async function updateJobs(
  tx: Executor,
  ids: readonly number[],
  patch: JobUpdate,
): Promise<void> {
  for (let i = 0; i < ids.length; i += IDS_PER_QUERY) {
    await tx
      .updateTable('jobs')
      .set(patch)
      .where('id', 'in', ids.slice(i, i + IDS_PER_QUERY))
      .execute();
  }
}

export async function deleteJobRow(tx: Executor, id: number): Promise<void> {
  await tx.deleteFrom('jobs').where('id', '=', id).execute();
}

export const TASK_COUNTER_COLUMNS = {
  PENDING: 'tasks_pending',
  QUEUED: 'tasks_queued',
  RUNNING: 'tasks_running',
  SUSPENDED: 'tasks_suspended',
  COMPLETED: 'tasks_completed',
  FAILED: 'tasks_failed',
  CANCELED: 'tasks_canceled',
} as const;
export type CounterState = keyof typeof TASK_COUNTER_COLUMNS;

/**
 * Moves `n` tasks of a job from one counter to another, without recounting, and answers the
 * job's row as it now is (undefined when nothing moved). `usedExes` execution numbers are
 * spent in the same statement (queueings that ended before a node took them). On
 * PostgreSQL this update locks the job's row until commit, and its counters then include
 * every change committed before it.
 */
export async function shiftTaskCounters(
  tx: Executor,
  jobId: number,
  from: CounterState,
  to: CounterState,
  n: number,
  now: number,
  usedExes = 0,
  /** Sets last_modified; the dispatch path's shifts do not (see JobsTable). */
  touch = true,
): Promise<JobRow | undefined> {
  if (from === to || n === 0) return undefined;
  const key = `${from}>${to}>${touch}`;
  let shift = COUNTER_SHIFTS.get(key);
  if (!shift) COUNTER_SHIFTS.set(key, (shift = counterShift(from, to, touch)));
  return shift.executeTakeFirst(tx, jobId, n, now, usedExes);
}

/** One compiled update per pair of counters (their columns are the query's shape). */
const COUNTER_SHIFTS = new Map<string, ReturnType<typeof counterShift>>();

function counterShift(from: CounterState, to: CounterState, touch: boolean) {
  const a = TASK_COUNTER_COLUMNS[from];
  const b = TASK_COUNTER_COLUMNS[to];
  // num_exes moves by `usedExes` (0 for most shifts): one shape for every call.
  return compiledQuery((db, jobId: number, n: number, now: number, usedExes: number) =>
    db
      .updateTable('jobs')
      .set((eb) => ({
        [a]: eb(a, '-', n),
        [b]: eb(b, '+', n),
        num_exes: eb('num_exes', '+', usedExes),
        ...(touch ? { last_modified: now } : {}),
      }))
      .where('id', '=', jobId)
      .returningAll(),
  );
}

/** Sets every counter from the tasks themselves (after a bulk change). */
export async function recountTasks(tx: Executor, jobId: number, now: number): Promise<void> {
  const rows = await tx
    .selectFrom('tasks')
    .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
    .where('job_id', '=', jobId)
    .groupBy('state')
    .execute();
  const patch: JobUpdate = { last_modified: now };
  for (const column of Object.values(TASK_COUNTER_COLUMNS)) patch[column] = 0;
  for (const row of rows) {
    const column = TASK_COUNTER_COLUMNS[row.state as CounterState];
    if (column) patch[column] = Number(row.n);
  }
  await updateJob(tx, jobId, patch);
}

export async function setNodeList(tx: Executor, jobId: number, names: string[]): Promise<void> {
  await tx.deleteFrom('job_node_list').where('job_id', '=', jobId).execute();
  const unique = [...new Set(names)];
  if (unique.length > 0) {
    await tx
      .insertInto('job_node_list')
      .values(unique.map((node_name) => ({ job_id: jobId, node_name })))
      .execute();
  }
}

export async function nodeListOf(db: Executor, jobId: number): Promise<string[]> {
  const rows = await db
    .selectFrom('job_node_list')
    .select('node_name')
    .where('job_id', '=', jobId)
    .orderBy('node_name')
    .execute();
  return rows.map((r) => r.node_name);
}

/** Adds edges from `jobId` to `on`; `byFrame` edges are counted on the jobs they name. */
export async function addDependencies(
  tx: Executor,
  jobId: number,
  on: number[],
  byFrame = false,
): Promise<void> {
  const unique = [...new Set(on)];
  if (unique.length === 0) return;
  await tx
    .insertInto('job_dependencies')
    .values(
      unique.map((depends_on_id) => ({ job_id: jobId, depends_on_id, by_frame: byFrame ? 1 : 0 })),
    )
    .execute();
  if (byFrame) await countFrameDependents(tx, unique, 1);
}

export async function setDependencies(
  tx: Executor,
  jobId: number,
  on: number[],
  byFrame = false,
): Promise<void> {
  const old = await tx
    .selectFrom('job_dependencies')
    .select('depends_on_id')
    .where('job_id', '=', jobId)
    .where('by_frame', '=', 1)
    .execute();
  await countFrameDependents(
    tx,
    old.map((r) => Number(r.depends_on_id)),
    -1,
  );
  await tx.deleteFrom('job_dependencies').where('job_id', '=', jobId).execute();
  await addDependencies(tx, jobId, on, byFrame);
}

async function countFrameDependents(tx: Executor, ids: number[], by: 1 | -1): Promise<void> {
  if (ids.length === 0) return;
  await tx
    .updateTable('jobs')
    .set((eb) => ({ frame_dependents: eb('frame_dependents', '+', by) }))
    .where('id', 'in', ids)
    .execute();
}

export async function dependenciesOf(db: Executor, jobId: number): Promise<number[]> {
  const rows = await db
    .selectFrom('job_dependencies')
    .select('depends_on_id')
    .where('job_id', '=', jobId)
    .orderBy('depends_on_id')
    .execute();
  return rows.map((r) => Number(r.depends_on_id));
}

/** The dependency edges leaving the given jobs: which job waits on which. */
export async function dependencyEdgesFrom(
  db: Executor,
  jobIds: readonly number[],
): Promise<Array<{ jobId: number; dependsOnId: number }>> {
  if (jobIds.length === 0) return [];
  const rows = await db
    .selectFrom('job_dependencies')
    .select(['job_id', 'depends_on_id'])
    .where('job_id', 'in', jobIds)
    .execute();
  return rows.map((r) => ({ jobId: Number(r.job_id), dependsOnId: Number(r.depends_on_id) }));
}

/*
 * Changing an existing job's dependencies reads the graph beyond the job it locks, so two
 * changes that each close half of a cycle (A on B, B on A) could both pass their check.
 * With PostgreSQL they take this transaction-scoped lock first and run one at a time;
 * SQLite transactions already do. Submissions need no lock: nothing waits on a new job.
 */
const DEPENDENCY_GRAPH_LOCK = 0x64726f7665; // "drove"

export async function lockDependencyGraph(tx: Tx, dialect: DialectName): Promise<void> {
  if (dialect === 'postgres') {
    await sql`select pg_advisory_xact_lock(${sql.lit(DEPENDENCY_GRAPH_LOCK)})`.execute(tx);
  }
}

/** Jobs that depend on `jobId`. */
export async function dependentsOf(db: Executor, jobId: number): Promise<number[]> {
  const rows = await db
    .selectFrom('job_dependencies')
    .select('job_id')
    .where('depends_on_id', '=', jobId)
    .execute();
  return rows.map((r) => Number(r.job_id));
}

/*
 * A dependency is met when it COMPLETED, or, for a job whose policy on a failed dependency
 * is RUN, when it ended in any way (src/domain/dependency-failure.ts).
 */
const ENDED_UNCOMPLETED = ['FAILED', 'CANCELED'];

/** Dependencies of a job that are not met yet (deleted ones included: they block). */
export async function unmetDependencies(db: Executor, jobId: number): Promise<number[]> {
  const rows = await db
    .selectFrom('job_dependencies as d')
    .innerJoin('jobs as j', 'j.id', 'd.depends_on_id')
    .innerJoin('jobs as me', 'me.id', 'd.job_id')
    .select('j.id')
    .where('d.job_id', '=', jobId)
    .where('d.by_frame', '=', 0)
    .where('j.state', '!=', 'COMPLETED')
    .where((eb) =>
      eb.or([
        eb('me.on_dependency_failure', '!=', 'RUN'),
        eb('j.state', 'not in', ENDED_UNCOMPLETED),
      ]),
    )
    .orderBy('j.id')
    .execute();
  return rows.map((r) => Number(r.id));
}

/** A job's dependencies that FAILED or were CANCELED, with their state. */
export async function failedDependencies(
  db: Executor,
  jobId: number,
): Promise<Array<{ id: number; state: string }>> {
  const rows = await db
    .selectFrom('job_dependencies as d')
    .innerJoin('jobs as j', 'j.id', 'd.depends_on_id')
    .select(['j.id', 'j.state'])
    .where('d.job_id', '=', jobId)
    .where('j.state', 'in', ENDED_UNCOMPLETED)
    .orderBy('j.id')
    .execute();
  return rows.map((r) => ({ id: Number(r.id), state: r.state }));
}

/** Per job of `jobIds`, the jobs waiting on it whose every dependency is now met. */
export async function dependentsReadyToRelease(
  db: Executor,
  jobIds: readonly number[],
): Promise<Map<number, number[]>> {
  const ready = new Map<number, number[]>();
  for (let i = 0; i < jobIds.length; i += IDS_PER_QUERY) {
    for (const { on, id } of await readyDependentsOf(db, jobIds.slice(i, i + IDS_PER_QUERY))) {
      ready.set(Number(on), [...(ready.get(Number(on)) ?? []), Number(id)]);
    }
  }
  return ready;
}

function readyDependentsOf(db: Executor, jobIds: readonly number[]) {
  return db
    .selectFrom('job_dependencies as d')
    .innerJoin('jobs as j', 'j.id', 'd.job_id')
    .select(['d.depends_on_id as on', 'j.id'])
    .where('d.depends_on_id', 'in', jobIds)
    .where('d.by_frame', '=', 0)
    .where('j.state', '=', 'PENDING')
    .where('j.pend_reason', '=', 'DEPENDENCIES')
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('job_dependencies as d2')
            .innerJoin('jobs as j2', 'j2.id', 'd2.depends_on_id')
            .select(sql`1`.as('one'))
            .whereRef('d2.job_id', '=', 'j.id')
            .where('d2.by_frame', '=', 0)
            .where('j2.state', '!=', 'COMPLETED')
            .where((eb) =>
              eb.or([
                eb('j.on_dependency_failure', '!=', 'RUN'),
                eb('j2.state', 'not in', ENDED_UNCOMPLETED),
              ]),
            ),
        ),
      ),
    )
    .orderBy('j.id')
    .execute();
}

/**
 * Jobs waiting on `jobId` that are canceled when it fails: PENDING on their dependencies,
 * or, frame by frame, also QUEUED or RUNNING (their tasks wait on its frames).
 */
export async function dependentsToCancel(db: Executor, jobId: number): Promise<number[]> {
  const rows = await db
    .selectFrom('job_dependencies as d')
    .innerJoin('jobs as j', 'j.id', 'd.job_id')
    .select('j.id')
    .where('d.depends_on_id', '=', jobId)
    .where('j.on_dependency_failure', '=', 'CANCEL')
    .where((eb) =>
      eb.or([
        eb.and([eb('j.state', '=', 'PENDING'), eb('j.pend_reason', '=', 'DEPENDENCIES')]),
        eb.and([eb('d.by_frame', '=', 1), eb('j.state', 'in', ['QUEUED', 'RUNNING'])]),
      ]),
    )
    .orderBy('j.id')
    .execute();
  return rows.map((r) => Number(r.id));
}

/** Jobs whose schedule has a start or stop due, earliest first (a range scan of its index). */
export async function schedulesDue(db: Executor, now: number, limit: number): Promise<number[]> {
  const rows = await db
    .selectFrom('jobs')
    .select('id')
    .where('next_schedule_at', '<=', now)
    .orderBy('next_schedule_at')
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map((r) => Number(r.id));
}

/** RUNNING jobs past their own time limit. */
export async function jobsPastTimeout(db: Executor, now: number, limit: number): Promise<number[]> {
  const rows = await db
    .selectFrom('jobs')
    .select('id')
    .where('state', '=', 'RUNNING')
    .where('job_timeout_s', '>', 0)
    .where(sql<boolean>`started_at + job_timeout_s * 1000 < ${now}`)
    .limit(limit)
    .execute();
  return rows.map((r) => Number(r.id));
}

export async function countJobsByState(db: Executor): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom('jobs')
    .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
    .where('deleted_at', 'is', null)
    .groupBy('state')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
}

/** The children of a parent job, in the order they were made. */
export async function childrenOf(db: Executor, parentId: number): Promise<JobRow[]> {
  return db
    .selectFrom('jobs')
    .selectAll()
    .where('parent_id', '=', parentId)
    .orderBy('id')
    .execute();
}

/** How many children of a parent job are in each state. */
export async function childStateCounts(
  db: Executor,
  parentId: number,
): Promise<Partial<Record<string, number>>> {
  const rows = await db
    .selectFrom('jobs')
    .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
    .where('parent_id', '=', parentId)
    .groupBy('state')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
}
