import type { EngineContext } from '../../engine/context.js';
import { failedExecutionCounts } from '../../store/execution-statistics.js';
import { findJobType } from '../../store/job-types.js';
import { dependenciesOf, findJobs, nodeListOf } from '../../store/jobs.js';
import { jobLimitNames } from '../../store/limits.js';
import { listRows, type Condition, type Scalar } from '../../store/list-query/index.js';
import type { JobRow } from '../../store/schema.js';
import type { JobView } from './job-json.js';
import { stepJobsOf, withStepTotals } from './step-jobs.js';

/**
 * Everything the job document shows beside the row, read for a set of jobs. A multi-step
 * job's row carries its steps' task counts, and its Errs are its steps' (step-jobs.ts).
 */
export async function jobViews(ctx: EngineContext, rows: readonly JobRow[]): Promise<JobView[]> {
  const steps = new Map<number, JobRow[]>();
  for (const row of rows) {
    const of = await stepJobsOf(ctx, row);
    if (of) steps.set(row.id, of);
  }
  const errors = await failedExecutionCounts(ctx.db, [
    ...rows.map((r) => r.id),
    ...[...steps.values()].flat().map((s) => s.id),
  ]);
  const errorsOf = (job: JobRow) =>
    (steps.get(job.id) ?? [job]).reduce((sum, s) => sum + (errors.get(s.id) ?? 0), 0);
  const typeNames = new Map<number, string>();
  for (const id of new Set(rows.map((r) => r.job_type_id))) {
    typeNames.set(id, (await findJobType(ctx.db, id))?.name ?? 'unknown');
  }
  const views: JobView[] = [];
  for (const job of rows) {
    const [nodes, dependencies, limits] = await Promise.all([
      nodeListOf(ctx.db, job.id),
      dependenciesOf(ctx.db, job.id),
      job.uses_limits !== 0 ? jobLimitNames(ctx.db, job.id) : [],
    ]);
    const own = steps.get(job.id);
    views.push({
      job: own ? withStepTotals(job, own) : job,
      typeName: typeNames.get(job.job_type_id) ?? 'unknown',
      nodes,
      dependencies,
      limits,
      errors: errorsOf(job),
      ...(own ? { steps: own.map((s) => s.child_name ?? s.name) } : {}),
    });
  }
  return views;
}

const PAGE = 1000;

/** The jobs Deadline's job list asks for: the deleted ones, or the others in some states. */
export type JobListFilter = { deleted: true } | { deleted?: false; states?: readonly string[] };

function listCondition(filter: JobListFilter): Condition {
  const deletedAt: Condition = { isNull: { field: 'deleted_at' } };
  if (filter.deleted) return { not: deletedAt };
  const states = filter.states?.length ? [{ in: { field: 'state' }, values: filter.states }] : [];
  return { and: [...states, deletedAt] };
}

/**
 * Every job a filter matches, oldest first, read a page at a time by key (an offset would
 * read every earlier page again). Deadline's "get all the jobs" has no paging of its own;
 * archived jobs are out of the repository and never listed, nor are the steps of a
 * multi-step job, whose tasks are its own (step-jobs.ts).
 */
export async function allJobs(ctx: EngineContext, filter: JobListFilter): Promise<JobRow[]> {
  const where = listCondition(filter);
  const out: JobRow[] = [];
  let after: readonly Scalar[] | undefined;
  for (;;) {
    // No order but the id, oldest first.
    const page = await listRows<JobRow>(ctx.db, ctx.dialect, 'jobs', {
      where,
      page: { limit: PAGE, ...(after ? { after } : {}) },
    });
    out.push(...page.rows.filter((r) => r.archived_at === null && r.parent_id === null));
    if (page.next === undefined) return out;
    after = page.next;
  }
}

/** The jobs of the given ids that exist (deleted ones included), in the order asked. */
export async function jobsByIds(ctx: EngineContext, ids: readonly number[]): Promise<JobRow[]> {
  const found = new Map((await findJobs(ctx.db, [...new Set(ids)])).map((j) => [j.id, j]));
  return ids.map((id) => found.get(id)).filter((j): j is JobRow => j !== undefined);
}
