import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import type { Executor } from './database.js';
import { withScaleTables, type ScaleDatabase } from './scale-schema.js';
import type { JobRow } from './schema.js';

/*
 * Job lists as Scale's job services filter and order them. A Scale status is not one engine
 * state (a RUNNING job whose only task waits for a retry is QUEUED to Scale), so a status
 * filter arrives as conditions on the state and the task counters, from the dialect's table.
 */

/** A job matches when its state is `state` and the optional refinements hold. */
export interface JobStateCondition {
  state: string;
  /** true: some task is running; false: none is. */
  runningTasks?: boolean;
  /** true: a job it depends on FAILED or was CANCELED; false: none did. */
  blocked?: boolean;
}

export interface ScaleJobFilter {
  conditions?: JobStateCondition[];
  ids?: number[];
  jobTypeIds?: number[];
  jobTypeNames?: string[];
  jobTypeCategories?: string[];
  batchIds?: number[];
  /** Never matched: Drover has no recipes, so any recipe filter matches nothing. */
  recipeIds?: number[];
  errorNames?: string[];
  errorCategories?: string[];
  /** Drover never supersedes jobs: true matches nothing, false everything. */
  isSuperseded?: boolean;
  modifiedAfter?: number;
  modifiedBefore?: number;
  statusChangedAfter?: number;
  statusChangedBefore?: number;
  sourceStartedAfter?: number;
  sourceEndedBefore?: number;
  sourceSensorClasses?: string[];
  sourceSensors?: string[];
  sourceCollections?: string[];
  sourceTasks?: string[];
}

export const SCALE_SORT_FIELDS = {
  id: 'j.id',
  status: 'j.state',
  priority: 'j.priority',
  created: 'j.created_at',
  queued: 'j.queued_at',
  started: 'j.started_at',
  ended: 'j.ended_at',
  last_status_change: 'j.last_status_change',
  last_modified: 'j.last_modified',
  num_exes: 'j.num_exes',
  max_tries: 'j.max_tries',
  job_type: 't.name',
  job_type__name: 't.name',
  job_type__version: 't.version',
  job_type__id: 't.id',
  job_type_id: 't.id',
  job_type__title: 't.title',
  job_type__category: 't.category',
  batch: 'j.batch_id',
  batch_id: 'j.batch_id',
  event: 'j.event_id',
  error: 'j.error_name',
  error__name: 'j.error_name',
  node: 'j.id',
  source_started: 's.source_started',
  source_ended: 's.source_ended',
  source_sensor_class: 's.source_sensor_class',
  source_sensor: 's.source_sensor',
  source_collection: 's.source_collection',
  source_task: 's.source_task',
  input_file_size: 's.input_file_size',
  timeout: 'j.task_timeout_s',
} as const;
export type ScaleSortField = keyof typeof SCALE_SORT_FIELDS | 'duration';

export interface ScaleSort {
  field: ScaleSortField;
  direction: 'asc' | 'desc';
}

type Eb = ExpressionBuilder<ScaleDatabase & { j: ScaleDatabase['jobs'] }, 'j'>;

function blockedExpression(): Expression<SqlBool> {
  return sql<SqlBool>`exists (select 1 from job_dependencies d inner join jobs dj on dj.id = d.depends_on_id where d.job_id = j.id and dj.state in ('FAILED', 'CANCELED'))`;
}

function conditionExpression(eb: Eb, c: JobStateCondition): Expression<SqlBool> {
  const parts: Expression<SqlBool>[] = [eb('j.state', '=', c.state)];
  if (c.runningTasks === true) parts.push(eb('j.tasks_running', '>', 0));
  if (c.runningTasks === false) parts.push(eb('j.tasks_running', '=', 0));
  if (c.blocked === true) parts.push(blockedExpression());
  if (c.blocked === false) parts.push(eb.not(blockedExpression()));
  return eb.and(parts);
}

const some = <T>(values: T[] | undefined): values is T[] => values !== undefined;

function filtered(db: Executor, f: ScaleJobFilter) {
  let q = withScaleTables(db)
    .selectFrom('jobs as j')
    .innerJoin('job_types as t', 't.id', 'j.job_type_id')
    .leftJoin('job_sources as s', 's.job_id', 'j.id')
    .where('j.deleted_at', 'is', null);
  const none = (values: unknown[] | undefined) => values !== undefined && values.length === 0;
  if (f.isSuperseded === true || (some(f.recipeIds) && f.recipeIds.length > 0)) {
    q = q.where(sql<SqlBool>`1 = 0`);
  }
  if (f.conditions) {
    const conditions = f.conditions;
    q = q.where((eb) =>
      conditions.length === 0
        ? sql<SqlBool>`1 = 0`
        : eb.or(conditions.map((c) => conditionExpression(eb as unknown as Eb, c))),
    );
  }
  if (some(f.ids)) q = q.where('j.id', 'in', none(f.ids) ? [-1] : f.ids);
  if (some(f.jobTypeIds))
    q = q.where('j.job_type_id', 'in', none(f.jobTypeIds) ? [-1] : f.jobTypeIds);
  if (some(f.jobTypeNames))
    q = q.where('t.name', 'in', none(f.jobTypeNames) ? [''] : f.jobTypeNames);
  if (some(f.jobTypeCategories))
    q = q.where('t.category', 'in', none(f.jobTypeCategories) ? [''] : f.jobTypeCategories);
  if (some(f.batchIds)) q = q.where('j.batch_id', 'in', none(f.batchIds) ? [-1] : f.batchIds);
  // A job shows its error only while FAILED (Scale clears it on cancel and requeue).
  if (some(f.errorNames)) {
    q = q
      .where('j.state', '=', 'FAILED')
      .where('j.error_name', 'in', none(f.errorNames) ? [''] : f.errorNames);
  }
  if (some(f.errorCategories)) {
    const categories = none(f.errorCategories) ? [''] : f.errorCategories;
    q = q.where('j.state', '=', 'FAILED').where((eb) =>
      eb.exists(
        eb
          .selectFrom('errors as e')
          .select(sql`1`.as('one'))
          .whereRef('e.name', '=', 'j.error_name')
          .where((w) =>
            w.or([w('e.job_type_name', 'is', null), w('e.job_type_name', '=', w.ref('t.name'))]),
          )
          .where('e.category', 'in', categories as never),
      ),
    );
  }
  if (f.modifiedAfter !== undefined) q = q.where('j.last_modified', '>=', f.modifiedAfter);
  if (f.modifiedBefore !== undefined) q = q.where('j.last_modified', '<=', f.modifiedBefore);
  if (f.statusChangedAfter !== undefined)
    q = q.where('j.last_status_change', '>=', f.statusChangedAfter);
  if (f.statusChangedBefore !== undefined)
    q = q.where('j.last_status_change', '<=', f.statusChangedBefore);
  if (f.sourceStartedAfter !== undefined)
    q = q.where('s.source_started', '>=', f.sourceStartedAfter);
  if (f.sourceEndedBefore !== undefined) q = q.where('s.source_ended', '<=', f.sourceEndedBefore);
  if (some(f.sourceSensorClasses))
    q = q.where(
      's.source_sensor_class',
      'in',
      none(f.sourceSensorClasses) ? [''] : f.sourceSensorClasses,
    );
  if (some(f.sourceSensors))
    q = q.where('s.source_sensor', 'in', none(f.sourceSensors) ? [''] : f.sourceSensors);
  if (some(f.sourceCollections))
    q = q.where(
      's.source_collection',
      'in',
      none(f.sourceCollections) ? [''] : f.sourceCollections,
    );
  if (some(f.sourceTasks))
    q = q.where('s.source_task', 'in', none(f.sourceTasks) ? [''] : f.sourceTasks);
  return q;
}

/** One page of the jobs that match, and how many match in all. */
export async function listScaleJobs(
  db: Executor,
  filter: ScaleJobFilter,
  sort: ScaleSort[],
  page: { limit: number; offset: number },
): Promise<{ rows: JobRow[]; total: number }> {
  const base = filtered(db, filter);
  let rows = base.selectAll('j');
  for (const s of sort) {
    const expression =
      s.field === 'duration'
        ? sql`(j.ended_at - j.started_at)`
        : sql.ref(SCALE_SORT_FIELDS[s.field]);
    rows = rows.orderBy(expression, s.direction);
  }
  // The id breaks ties so that pages never overlap or skip.
  rows = rows.orderBy('j.id', sort[0]?.direction ?? 'asc');
  const [found, count] = await Promise.all([
    rows.limit(page.limit).offset(page.offset).execute(),
    base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows: found as JobRow[], total: Number(count.n) };
}

/** Ids of every matching job, newest first (the bulk commands walk them in that order). */
export async function matchingJobIds(db: Executor, filter: ScaleJobFilter): Promise<number[]> {
  const rows = await filtered(db, filter).select('j.id').orderBy('j.id', 'desc').execute();
  return rows.map((r) => Number(r.id));
}

/** Which of these PENDING jobs depend on a job that FAILED or was CANCELED. */
export async function blockedJobIds(db: Executor, jobIds: readonly number[]): Promise<Set<number>> {
  if (jobIds.length === 0) return new Set();
  const rows = await db
    .selectFrom('job_dependencies as d')
    .innerJoin('jobs as dj', 'dj.id', 'd.depends_on_id')
    .select('d.job_id')
    .where('d.job_id', 'in', jobIds)
    .where('dj.state', 'in', ['FAILED', 'CANCELED'])
    .execute();
  return new Set(rows.map((r) => Number(r.job_id)));
}
