import type { DialectName, Executor } from '../../store/database.js';
import {
  listRows,
  type Condition,
  type OrderKey,
  type Scalar,
} from '../../store/list-query/index.js';
import type { JobRow } from '../../store/schema.js';
import { encodeCursor, type JobOrderKey } from './job-cursor.js';

/*
 * The native API's job filter, as the store's list query: each filter a condition on the
 * job fields, the sort an order with the id breaking ties, and pages by offset or by the
 * key of the previous page's last row (job-cursor.ts).
 */

export const JOB_SORT_FIELDS = [
  'id',
  'name',
  'state',
  'priority',
  'user_name',
  'pool',
  'project',
  'created_at',
  'queued_at',
  'started_at',
  'ended_at',
  'last_modified',
  'last_status_change',
] as const;
export type JobSortField = (typeof JOB_SORT_FIELDS)[number];

export interface JobFilter {
  ids?: number[];
  states?: string[];
  users?: string[];
  jobTypeIds?: number[];
  pools?: string[];
  projects?: string[];
  groups?: string[];
  batchIds?: number[];
  /** Only the children of this parent job. */
  parentId?: number;
  /** Only the jobs that wait on this job (its dependents). */
  dependsOn?: number;
  /** Only the jobs this job waits on (its dependencies). */
  dependencyOf?: number;
  /** Case-insensitive substring of the job name. */
  text?: string;
  createdAfter?: number;
  createdBefore?: number;
  startedAfter?: number;
  startedBefore?: number;
  endedAfter?: number;
  endedBefore?: number;
  modifiedAfter?: number;
  modifiedBefore?: number;
  /** exclude (default), include, or only deleted jobs. */
  deleted?: 'exclude' | 'include' | 'only';
}

export interface JobSort {
  field: JobSortField;
  direction: 'asc' | 'desc';
}

export interface Page {
  limit: number;
  offset: number;
  /** Key values of the row before this page, from decodeCursor (job-cursor.ts). */
  after?: readonly (string | number)[];
}

export interface JobPage {
  rows: JobRow[];
  /** The cursor of the next page; undefined on the last page or for nullable sort keys. */
  next: string | undefined;
}

export interface JobListPage extends JobPage {
  /**
   * Exact when the only filter is the state (the job tallies) or up to exactTotalLimit()
   * matches; an estimate above (capped-count.ts).
   */
  total: number;
  totalExact: boolean;
}

/** The filter as the store's filter tree. An empty `ids` or `jobTypeIds` matches nothing. */
export function jobCondition(f: JobFilter): Condition {
  const all: Condition[] = [];
  const among = (field: string, values: readonly Scalar[] | undefined, emptyMatches = true) => {
    if (values && (values.length > 0 || !emptyMatches)) all.push({ in: { field }, values });
  };
  const bound = (field: string, op: '>=' | '<', value: number | undefined) => {
    if (value !== undefined) all.push({ compare: { field }, op, to: { literal: value } });
  };
  among('id', f.ids, false);
  among('state', f.states);
  among('user_name', f.users);
  among('job_type_id', f.jobTypeIds, false);
  among('pool', f.pools);
  among('project', f.projects);
  among('group', f.groups);
  among('batch_id', f.batchIds);
  if (f.parentId !== undefined) {
    all.push({ compare: { field: 'parent_id' }, op: '=', to: { literal: f.parentId } });
  }
  if (f.dependsOn !== undefined) all.push({ has: 'depends_on', values: [f.dependsOn] });
  if (f.dependencyOf !== undefined) all.push({ has: 'dependency_of', values: [f.dependencyOf] });
  if (f.text) all.push({ search: 'name', text: f.text });
  bound('created_at', '>=', f.createdAfter);
  bound('created_at', '<', f.createdBefore);
  bound('started_at', '>=', f.startedAfter);
  bound('started_at', '<', f.startedBefore);
  bound('ended_at', '>=', f.endedAfter);
  bound('ended_at', '<', f.endedBefore);
  bound('last_modified', '>=', f.modifiedAfter);
  bound('last_modified', '<', f.modifiedBefore);
  const deleted = f.deleted ?? 'exclude';
  if (deleted === 'exclude') all.push({ isNull: { field: 'deleted_at' } });
  if (deleted === 'only') all.push({ not: { isNull: { field: 'deleted_at' } } });
  return { and: all };
}

/**
 * The order a list's rows come in: the sort asked for, then id, which breaks ties so that
 * pages never overlap or skip. Keys after the id decide nothing and are left out.
 */
export function listOrder(sort: readonly JobSort[]): JobOrderKey[] {
  const id = sort.findIndex((s) => s.field === 'id');
  if (id >= 0) return sort.slice(0, id + 1);
  return [...sort, { field: 'id', direction: sort[0]?.direction ?? 'asc' }];
}

async function readJobs(
  db: Executor,
  dialect: DialectName,
  filter: JobFilter,
  sort: readonly JobSort[],
  page: Page,
  count: boolean,
) {
  const order = listOrder(sort);
  const tie = order.at(-1)!;
  const found = await listRows<JobRow>(db, dialect, 'jobs', {
    where: jobCondition(filter),
    // listOrder ends in the id, which the store adds itself as the tie break.
    order: order
      .slice(0, -1)
      .map((k): OrderKey => ({ by: { field: k.field }, direction: k.direction })),
    tieBreak: tie.direction,
    page: { limit: page.limit, offset: page.offset, ...(page.after ? { after: page.after } : {}) },
    ...(count ? { count: 'capped' as const } : {}),
  });
  return { ...found, next: found.next ? encodeCursor(order, found.next) : undefined };
}

/** One page of jobs and the cursor of the next; every filter and order is indexed. */
export async function listJobPage(
  db: Executor,
  dialect: DialectName,
  filter: JobFilter,
  sort: readonly JobSort[],
  page: Page,
): Promise<JobPage> {
  const { rows, next } = await readJobs(db, dialect, filter, sort, page, false);
  return { rows, next };
}

/** listJobPage and the number of all jobs that match (capped: capped-count.ts). */
export async function listJobs(
  db: Executor,
  dialect: DialectName,
  filter: JobFilter,
  sort: readonly JobSort[],
  page: Page,
): Promise<JobListPage> {
  const { rows, next, total, totalExact } = await readJobs(db, dialect, filter, sort, page, true);
  return { rows, next, total: total ?? 0, totalExact: totalExact ?? true };
}
