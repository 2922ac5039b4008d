import type { EngineContext } from '../../engine/context.js';
import { findErrorsByIds } from '../../store/job-type-errors.js';
import { findJobTypeByName } from '../../store/job-types.js';
import {
  SCALE_SORT_FIELDS,
  type ScaleJobFilter,
  type ScaleSort,
  type ScaleSortField,
} from './job-list.js';
import { badParameter, type Params } from './params.js';
import { conditionsOf } from './status-mapping.js';

/*
 * The job filters of Scale's job lists and bulk commands. GET lists read singular repeated
 * keys (job_type_id=1&job_type_id=2); the bulk bodies read plural arrays (job_type_ids).
 * `started`/`ended` bound last_modified, as in Scale.
 */

async function errorNamesOf(ctx: EngineContext, ids: number[] | undefined) {
  if (ids === undefined) return undefined;
  return (await findErrorsByIds(ctx.db, ids)).map((e) => e.name);
}

function timeWindow(p: Params): Pick<ScaleJobFilter, 'modifiedAfter' | 'modifiedBefore'> {
  const { started, ended } = p.timeRange();
  return {
    ...(started !== undefined ? { modifiedAfter: started } : {}),
    ...(ended !== undefined ? { modifiedBefore: ended } : {}),
  };
}

const defined = <T extends object>(o: T): T =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

/** GET /v6/jobs/ */
export async function v6ListFilter(ctx: EngineContext, p: Params): Promise<ScaleJobFilter> {
  const source = p.timeRange('source_started', 'source_ended');
  const statuses = p.strings('status');
  return defined({
    ...timeWindow(p),
    sourceStartedAfter: source.started,
    sourceEndedBefore: source.ended,
    sourceSensorClasses: p.strings('source_sensor_class'),
    sourceSensors: p.strings('source_sensor'),
    sourceCollections: p.strings('source_collection'),
    // Scale's docs say source_tasks, its code reads source_task: accept both.
    sourceTasks: p.strings('source_task') ?? p.strings('source_tasks'),
    conditions: statuses ? conditionsOf(statuses) : undefined,
    ids: p.ints('job_id'),
    jobTypeIds: p.ints('job_type_id'),
    jobTypeNames: p.strings('job_type_name'),
    batchIds: p.ints('batch_id'),
    recipeIds: p.ints('recipe_id'),
    errorCategories: p.strings('error_category'),
    errorNames: await errorNamesOf(ctx, p.ints('error_id')),
    isSuperseded: p.bool('is_superseded'),
  });
}

/** The body of POST /v6/jobs/cancel/ and /v6/jobs/requeue/. */
export async function bulkFilter(ctx: EngineContext, p: Params): Promise<ScaleJobFilter> {
  const status = p.string('status');
  const jobTypeIds = p.ints('job_type_ids') ?? [];
  const jobTypes = p.has('job_types') ? p.objectList('job_types') : [];
  for (const entry of jobTypes) {
    if (typeof entry.name !== 'string' || typeof entry.version !== 'string') {
      throw badParameter(
        `Job types argument invalid: ${JSON.stringify(entry)} needs a name and a version`,
      );
    }
    const type = await findJobTypeByName(ctx.db, entry.name, entry.version);
    if (!type) {
      throw badParameter(
        `Job Type with name: ${entry.name} and version: ${entry.version} does not exist`,
      );
    }
    jobTypeIds.push(type.id);
  }
  return defined({
    ...timeWindow(p),
    conditions: status !== undefined ? conditionsOf([status]) : undefined,
    ids: p.ints('job_ids'),
    jobTypeIds: p.has('job_type_ids') || jobTypes.length > 0 ? jobTypeIds : undefined,
    jobTypeNames: p.strings('job_type_names'),
    batchIds: p.ints('batch_ids'),
    recipeIds: p.ints('recipe_ids'),
    errorCategories: p.strings('error_categories'),
    errorNames: await errorNamesOf(ctx, p.ints('error_ids')),
    isSuperseded: p.bool('is_superseded'),
  });
}

/** GET /jobs/ (legacy): superseded jobs are left out unless include_superseded. */
export async function legacyListFilter(
  ctx: EngineContext,
  p: Params,
  window: 'last_modified' | 'last_status_change' = 'last_modified',
): Promise<ScaleJobFilter> {
  const { started, ended } = p.timeRange();
  const statuses = p.strings('status');
  const includeSuperseded = p.bool('include_superseded') ?? false;
  return defined({
    ...(window === 'last_modified'
      ? { modifiedAfter: started, modifiedBefore: ended }
      : { statusChangedAfter: started, statusChangedBefore: ended }),
    conditions: statuses ? conditionsOf(statuses) : undefined,
    ids: p.ints('job_id'),
    jobTypeIds: p.ints('job_type_id'),
    jobTypeNames: p.strings('job_type_name'),
    jobTypeCategories: p.strings('job_type_category'),
    batchIds: p.ints('batch_id'),
    errorCategories: p.strings('error_category'),
    isSuperseded: includeSuperseded ? undefined : false,
  });
}

/** `order` keys, `-` for descending; an unknown field is a 400, not Scale's 500. */
export function orderOf(p: Params, fallback: ScaleSort[]): ScaleSort[] {
  const keys = p.strings('order');
  if (!keys || keys.length === 0) return fallback;
  return keys.map((key) => {
    const direction = key.startsWith('-') ? 'desc' : 'asc';
    const field = key.replace(/^-/, '');
    if (field !== 'duration' && !(field in SCALE_SORT_FIELDS)) {
      throw badParameter(`Invalid order field: ${field}`);
    }
    return { field: field as ScaleSortField, direction };
  });
}
