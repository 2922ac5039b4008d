import type { Executor } from '../../store/database.js';
import { listRows, type Condition, type Expr } from '../../store/list-query/index.js';
import type { ExecutionRow, JobTypeRow } from '../../store/schema.js';

/*
 * The execution and job-type lists of Scale's services, as the store's list query: a job's
 * executions (/v6/jobs/{id}/executions/), executions across jobs (the legacy
 * /v5/job-executions/), and job types by name and version.
 */

const f = (field: string): Expr => ({ field });
type Page = { limit: number; offset: number };

export interface JobExecutionFilter {
  states?: string[];
  nodeIds?: number[];
  errorNames?: string[];
  errorCategories?: string[];
}

/** A job's executions, most recent first. */
export async function listJobExecutions(
  db: Executor,
  jobId: number,
  filter: JobExecutionFilter,
  page: Page,
): Promise<{ rows: ExecutionRow[]; total: number }> {
  const all: Condition[] = [{ compare: f('job_id'), op: '=', to: { literal: jobId } }];
  if (filter.states) all.push({ in: f('state'), values: filter.states });
  if (filter.nodeIds) all.push({ in: f('node_id'), values: filter.nodeIds });
  if (filter.errorNames) all.push({ in: f('error_name'), values: filter.errorNames });
  if (filter.errorCategories) all.push({ has: 'error_category', values: filter.errorCategories });
  const { rows, total } = await listRows<ExecutionRow>(db, undefined, 'executions', {
    where: { and: all },
    order: [{ by: f('exe_num'), direction: 'desc' }],
    tieBreak: 'desc',
    page,
    count: true,
  });
  return { rows, total: total ?? 0 };
}

export interface ExecutionListFilter {
  /** last_modified at or after. */
  modifiedFrom?: number;
  /** last_modified at or before. */
  modifiedTo?: number;
  states?: string[];
  jobTypeIds?: number[];
  jobTypeNames?: string[];
  jobTypeCategories?: string[];
  nodeIds?: number[];
}

const EXECUTION_ORDER = {
  last_modified: 'last_modified',
  id: 'id',
  created: 'created_at',
} as const;
export type ExecutionOrder = keyof typeof EXECUTION_ORDER;

/** Executions of every job (of jobs not deleted), in one order. */
export async function listExecutionsOfAllJobs(
  db: Executor,
  filter: ExecutionListFilter,
  order: ExecutionOrder,
  descending: boolean,
  page: Page,
): Promise<{ rows: ExecutionRow[]; total: number }> {
  const all: Condition[] = [{ isNull: f('job.deleted_at') }];
  if (filter.modifiedFrom !== undefined) {
    all.push({ compare: f('last_modified'), op: '>=', to: { literal: filter.modifiedFrom } });
  }
  if (filter.modifiedTo !== undefined) {
    all.push({ compare: f('last_modified'), op: '<=', to: { literal: filter.modifiedTo } });
  }
  if (filter.states) all.push({ in: f('state'), values: filter.states });
  if (filter.jobTypeIds) all.push({ in: f('job_type.id'), values: filter.jobTypeIds });
  if (filter.jobTypeNames) all.push({ in: f('job_type.name'), values: filter.jobTypeNames });
  if (filter.jobTypeCategories) {
    all.push({ in: f('job_type.category'), values: filter.jobTypeCategories });
  }
  if (filter.nodeIds) all.push({ in: f('node_id'), values: filter.nodeIds });
  const direction = descending ? 'desc' : 'asc';
  const { rows, total } = await listRows<ExecutionRow>(db, undefined, 'executions', {
    where: { and: all },
    order: [{ by: f(EXECUTION_ORDER[order]), direction }],
    tieBreak: direction,
    page,
    count: true,
  });
  return { rows, total: total ?? 0 };
}

/** Job types, by name and version, for Scale's job type list. */
export async function listJobTypesPage(
  db: Executor,
  filter: { names?: string[]; isActive?: boolean; isSystem?: boolean; ids?: number[] },
  page: Page,
): Promise<{ rows: JobTypeRow[]; total: number }> {
  const all: Condition[] = [];
  if (filter.names?.length) all.push({ in: f('name'), values: filter.names });
  if (filter.ids) all.push({ in: f('id'), values: filter.ids });
  if (filter.isActive !== undefined) {
    all.push({ compare: f('is_active'), op: '=', to: { literal: filter.isActive ? 1 : 0 } });
  }
  if (filter.isSystem !== undefined) {
    all.push({ compare: f('is_system'), op: '=', to: { literal: filter.isSystem ? 1 : 0 } });
  }
  const { rows, total } = await listRows<JobTypeRow>(db, undefined, 'jobTypes', {
    where: { and: all },
    order: [
      { by: f('name'), direction: 'asc' },
      { by: f('version'), direction: 'asc' },
    ],
    page,
    count: true,
  });
  return { rows, total: total ?? 0 };
}
