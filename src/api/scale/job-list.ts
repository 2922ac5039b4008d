import type { Executor } from '../../store/database.js';
import { listRows, type Condition, type Expr } from '../../store/list-query/index.js';
import type { JobRow } from '../../store/schema.js';

/*
 * Job lists as Scale's job services filter and order them, as the store's list query. A
 * Scale status is not one engine state (a RUNNING job whose only task waits for a retry is
 * QUEUED to Scale), so a status filter arrives as conditions on the state and the task
 * counters, from the dialect's table (status-mapping.ts).
 */

/** A job matches when its state is `state` and the optional refinements hold. */
export interface JobStateCondition {
  state: string;
  /** true: some task is running, or the job has none of its own; false: none is. */
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
  /** A recipe is a multi-step job: its jobs are that job's steps (README, "Multi-step jobs"). */
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

/** Scale's order keys, as the store's job fields. */
export const SCALE_SORT_FIELDS = {
  id: 'id',
  status: 'state',
  priority: 'priority',
  created: 'created_at',
  queued: 'queued_at',
  started: 'started_at',
  ended: 'ended_at',
  last_status_change: 'last_status_change',
  last_modified: 'last_modified',
  num_exes: 'num_exes',
  max_tries: 'max_tries',
  job_type: 'job_type.name',
  job_type__name: 'job_type.name',
  job_type__version: 'job_type.version',
  job_type__id: 'job_type_id',
  job_type_id: 'job_type_id',
  job_type__title: 'job_type.title',
  job_type__category: 'job_type.category',
  batch: 'batch_id',
  batch_id: 'batch_id',
  event: 'event_id',
  error: 'error_name',
  error__name: 'error_name',
  node: 'id',
  source_started: 'source.started',
  source_ended: 'source.ended',
  source_sensor_class: 'source.sensor_class',
  source_sensor: 'source.sensor',
  source_collection: 'source.collection',
  source_task: 'source.task',
  input_file_size: 'source.input_file_size',
  timeout: 'task_timeout_s',
} as const;
export type ScaleSortField = keyof typeof SCALE_SORT_FIELDS | 'duration';

export interface ScaleSort {
  field: ScaleSortField;
  direction: 'asc' | 'desc';
}

const f = (field: string): Expr => ({ field });
const lit = (literal: string | number): Expr => ({ literal });

function stateCondition(c: JobStateCondition): Condition {
  const parts: Condition[] = [{ compare: f('state'), op: '=', to: lit(c.state) }];
  // A job without tasks of its own (a multi-step job) runs while its state says so.
  const own: Condition = { compare: f('task_count'), op: '=', to: lit(0) };
  if (c.runningTasks === true) {
    parts.push({ or: [{ compare: f('tasks_running'), op: '>', to: lit(0) }, own] });
  }
  if (c.runningTasks === false) {
    parts.push({ compare: f('tasks_running'), op: '=', to: lit(0) }, { not: own });
  }
  if (c.blocked === true) parts.push({ holds: 'dependency_failed' });
  if (c.blocked === false) parts.push({ not: { holds: 'dependency_failed' } });
  return { and: parts };
}

/** The filter as the store's filter tree; an empty list matches nothing. */
export function scaleJobCondition(filter: ScaleJobFilter): Condition {
  const all: Condition[] = [{ isNull: f('deleted_at') }];
  if (filter.isSuperseded === true) all.push({ never: true });
  if (filter.conditions) all.push({ or: filter.conditions.map(stateCondition) });
  const among = (field: string, values: readonly (string | number)[] | undefined) => {
    if (values !== undefined) all.push({ in: f(field), values });
  };
  const bound = (field: string, op: '>=' | '<=', value: number | undefined) => {
    if (value !== undefined) all.push({ compare: f(field), op, to: lit(value) });
  };
  among('id', filter.ids);
  among('job_type_id', filter.jobTypeIds);
  among('job_type.name', filter.jobTypeNames);
  among('job_type.category', filter.jobTypeCategories);
  among('batch_id', filter.batchIds);
  among('parent_id', filter.recipeIds);
  // A job shows its error only while FAILED (Scale clears it on cancel and requeue).
  const failed: Condition = { compare: f('state'), op: '=', to: lit('FAILED') };
  if (filter.errorNames) all.push(failed, { in: f('error_name'), values: filter.errorNames });
  if (filter.errorCategories) {
    all.push(failed, { has: 'error_category', values: filter.errorCategories });
  }
  bound('last_modified', '>=', filter.modifiedAfter);
  bound('last_modified', '<=', filter.modifiedBefore);
  bound('last_status_change', '>=', filter.statusChangedAfter);
  bound('last_status_change', '<=', filter.statusChangedBefore);
  bound('source.started', '>=', filter.sourceStartedAfter);
  bound('source.ended', '<=', filter.sourceEndedBefore);
  among('source.sensor_class', filter.sourceSensorClasses);
  among('source.sensor', filter.sourceSensors);
  among('source.collection', filter.sourceCollections);
  among('source.task', filter.sourceTasks);
  return { and: all };
}

/** One page of the jobs that match, and how many match in all. */
export async function listScaleJobs(
  db: Executor,
  filter: ScaleJobFilter,
  sort: ScaleSort[],
  page: { limit: number; offset: number },
): Promise<{ rows: JobRow[]; total: number }> {
  const { rows, total } = await listRows<JobRow>(db, undefined, 'jobs', {
    where: scaleJobCondition(filter),
    order: sort.map((s) => ({
      by:
        s.field === 'duration'
          ? { minus: [f('ended_at'), f('started_at')] }
          : f(SCALE_SORT_FIELDS[s.field]),
      direction: s.direction,
    })),
    // The id breaks ties so that pages never overlap or skip.
    tieBreak: sort[0]?.direction ?? 'asc',
    page,
    // Exact, as Django's paginator counts; a filter of statuses alone is read from the job
    // tallies (store/list-query/tallied-count.ts).
    count: true,
  });
  return { rows, total: total ?? 0 };
}

/** Ids of every matching job, newest first (the bulk commands walk them in that order). */
export async function matchingJobIds(db: Executor, filter: ScaleJobFilter): Promise<number[]> {
  const { rows } = await listRows<{ id: number }>(db, undefined, 'jobs', {
    where: scaleJobCondition(filter),
    select: { id: f('id') },
    tieBreak: 'desc',
  });
  return rows.map((r) => Number(r.id));
}
