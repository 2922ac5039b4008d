import { sql, type SelectQueryBuilder } from 'kysely';
import type { DialectName, Executor } from './database.js';
import { afterKey, encodeCursor, type JobOrderKey } from './job-list-cursor.js';
import { countJobs } from './job-list-total.js';
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
  /** Key values of the row before this page, from decodeCursor (job-list-cursor.ts). */
  after?: readonly (string | number)[];
}

export interface JobPage {
  rows: JobRow[];
  /** The cursor of the next page; undefined on the last page or for nullable sort keys. */
  next: string | undefined;
}

export interface JobListPage extends JobPage {
  /** Exact up to exactTotalLimit() matches, an estimate above (job-list-total.ts). */
  total: number;
  totalExact: boolean;
}

type JobQuery = SelectQueryBuilder<Database, 'jobs', object>;

/**
 * SQLite finds the candidates of a name search in the trigram FTS table (migration 0008),
 * and the LIKE below keeps the exact semantics (FTS folds non-ASCII case too, LIKE does
 * not). Trigrams need 3 characters; shorter text scans. PostgreSQL's pg_trgm index serves
 * the LIKE itself. Before: a scan of every name, 670 ms over a million jobs on SQLite.
 */
function nameSearch(query: JobQuery, dialect: DialectName, text: string): JobQuery {
  let q = query;
  if (dialect === 'sqlite' && [...text].length >= 3) {
    const phrase = `"${text.replace(/"/g, '""')}"`;
    q = q.where(
      sql<boolean>`id in (select rowid from jobs_name_fts where jobs_name_fts match ${phrase})`,
    );
  }
  const escaped = text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`);
  // SQLite's LIKE has no escape character unless one is named; PostgreSQL's is '\'.
  return q.where(sql<boolean>`lower(name) like ${`%${escaped}%`} escape '\\'`);
}

function applyFilter(query: JobQuery, dialect: DialectName, f: JobFilter): JobQuery {
  let q = query;
  if (f.ids) q = q.where('id', 'in', f.ids.length ? f.ids : [-1]);
  if (f.states?.length) q = q.where('state', 'in', f.states);
  if (f.users?.length) q = q.where('user_name', 'in', f.users);
  if (f.jobTypeIds) q = q.where('job_type_id', 'in', f.jobTypeIds.length ? f.jobTypeIds : [-1]);
  if (f.pools?.length) q = q.where('pool', 'in', f.pools);
  if (f.groups?.length) q = q.where('grp', 'in', f.groups);
  if (f.batchIds?.length) q = q.where('batch_id', 'in', f.batchIds);
  if (f.parentId !== undefined) q = q.where('parent_id', '=', f.parentId);
  // Both read job_dependencies by an index: its primary key (job_id, …) or _depends_on.
  if (f.dependsOn !== undefined) {
    const target = f.dependsOn;
    q = q.where((eb) =>
      eb(
        'id',
        'in',
        eb.selectFrom('job_dependencies').select('job_id').where('depends_on_id', '=', target),
      ),
    );
  }
  if (f.dependencyOf !== undefined) {
    const source = f.dependencyOf;
    q = q.where((eb) =>
      eb(
        'id',
        'in',
        eb.selectFrom('job_dependencies').select('depends_on_id').where('job_id', '=', source),
      ),
    );
  }
  if (f.text) q = nameSearch(q, dialect, f.text);
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

/** The order a list's rows come in: the sort asked for, then id, which breaks ties. */
export function listOrder(sort: readonly JobSort[]): JobOrderKey[] {
  const order: JobOrderKey[] = [...sort];
  // id breaks ties so that pages never overlap or skip.
  if (!sort.some((s) => s.field === 'id')) {
    order.push({ field: 'id', direction: sort[0]?.direction ?? 'asc' });
  }
  return order;
}

/** One page of jobs and the cursor of the next; every filter and order is indexed. */
export async function listJobPage(
  db: Executor,
  dialect: DialectName,
  filter: JobFilter,
  sort: readonly JobSort[],
  page: Page,
): Promise<JobPage> {
  return readPage(db, applyFilter(db.selectFrom('jobs'), dialect, filter), sort, page);
}

/** listJobPage and the number of all jobs that match (capped: job-list-total.ts). */
export async function listJobs(
  db: Executor,
  dialect: DialectName,
  filter: JobFilter,
  sort: readonly JobSort[],
  page: Page,
): Promise<JobListPage> {
  const filtered = applyFilter(db.selectFrom('jobs'), dialect, filter);
  const [found, count] = await Promise.all([
    readPage(db, filtered, sort, page),
    countJobs(db, dialect, filtered),
  ]);
  return { ...found, total: count.total, totalExact: count.exact };
}

/**
 * The page's ids first, then their rows: the ids come from an index alone (the partial
 * indexes of migration 0008 hold the sort keys), so neither an OFFSET nor a filter the
 * index does not settle reads a table row it then drops. PostgreSQL otherwise walked the
 * primary key backwards testing rows, misled by LIMIT: 29 ms for state=FAILED where the
 * ids take 0.1 ms, 600 ms for a one-day window of a year-old creation date.
 */
async function readPage(
  db: Executor,
  filtered: JobQuery,
  sort: readonly JobSort[],
  page: Page,
): Promise<JobPage> {
  const order = listOrder(sort);
  let ids = (page.after ? afterKey(filtered, order, page.after) : filtered).select('id');
  let rows = db.selectFrom('jobs').selectAll();
  for (const key of order) {
    ids = ids.orderBy(key.field, key.direction);
    rows = rows.orderBy(key.field, key.direction);
  }
  // One row more than the page tells whether there is a next page.
  const found = await rows
    .where('id', 'in', ids.limit(page.limit + 1).offset(page.offset))
    .execute();
  const more = found.length > page.limit;
  if (more) found.length = page.limit;
  const last = found.at(-1);
  return { rows: found, next: more && last ? encodeCursor(order, last) : undefined };
}
