import { sql, type SelectQueryBuilder } from 'kysely';
import type { Executor } from './database.js';
import type { Database, JobRow } from './schema.js';

export const JOB_SORT_FIELDS = [
  'id',
  'name',
  'state',
  'priority',
  'user_name',
  'pool',
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
  groups?: string[];
  batchIds?: number[];
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
}

type JobQuery = SelectQueryBuilder<Database, 'jobs', object>;

function applyFilter(query: JobQuery, f: JobFilter): JobQuery {
  let q = query;
  if (f.ids) q = q.where('id', 'in', f.ids.length ? f.ids : [-1]);
  if (f.states?.length) q = q.where('state', 'in', f.states);
  if (f.users?.length) q = q.where('user_name', 'in', f.users);
  if (f.jobTypeIds) q = q.where('job_type_id', 'in', f.jobTypeIds.length ? f.jobTypeIds : [-1]);
  if (f.pools?.length) q = q.where('pool', 'in', f.pools);
  if (f.groups?.length) q = q.where('grp', 'in', f.groups);
  if (f.batchIds?.length) q = q.where('batch_id', 'in', f.batchIds);
  if (f.text) {
    const escaped = f.text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`);
    // SQLite's LIKE has no escape character unless one is named; PostgreSQL's is '\'.
    q = q.where(sql<boolean>`lower(name) like ${`%${escaped}%`} escape '\\'`);
  }
  if (f.createdAfter !== undefined) q = q.where('created_at', '>=', f.createdAfter);
  if (f.createdBefore !== undefined) q = q.where('created_at', '<', f.createdBefore);
  if (f.startedAfter !== undefined) q = q.where('started_at', '>=', f.startedAfter);
  if (f.startedBefore !== undefined) q = q.where('started_at', '<', f.startedBefore);
  if (f.endedAfter !== undefined) q = q.where('ended_at', '>=', f.endedAfter);
  if (f.endedBefore !== undefined) q = q.where('ended_at', '<', f.endedBefore);
  if (f.modifiedAfter !== undefined) q = q.where('last_modified', '>=', f.modifiedAfter);
  if (f.modifiedBefore !== undefined) q = q.where('last_modified', '<', f.modifiedBefore);
  const deleted = f.deleted ?? 'exclude';
  if (deleted === 'exclude') q = q.where('deleted_at', 'is', null);
  if (deleted === 'only') q = q.where('deleted_at', 'is not', null);
  return q;
}

/** One page of jobs and the number of all that match; every filter and order is indexed. */
export async function listJobs(
  db: Executor,
  filter: JobFilter,
  sort: JobSort[],
  page: Page,
): Promise<{ rows: JobRow[]; total: number }> {
  const base = applyFilter(db.selectFrom('jobs'), filter);
  let rows = base.selectAll();
  for (const s of sort) rows = rows.orderBy(s.field, s.direction);
  // id breaks ties so that pages never overlap or skip.
  if (!sort.some((s) => s.field === 'id')) {
    rows = rows.orderBy('id', sort[0]?.direction ?? 'asc');
  }
  const [found, count] = await Promise.all([
    rows.limit(page.limit).offset(page.offset).execute(),
    base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows: found, total: Number(count.n) };
}
