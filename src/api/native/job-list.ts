import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import { invalid } from '../../domain/errors.js';
import { MAX_ID } from '../../domain/job-bounds.js';
import type { Engine } from '../../engine/engine.js';
import { familyProgress } from '../../store/job-families.js';
import { findJobTypeByName } from '../../store/job-types.js';
import { jobTypesByIds } from '../../store/rows-by-ids.js';
import { decodeCursor } from './job-cursor.js';
import {
  JOB_SORT_FIELDS,
  listJobs,
  listOrder,
  type JobFilter,
  type JobSort,
  type JobSortField,
} from './job-query.js';
import { Job } from './job-schemas.js';
import { jobJson } from './representations.js';
import { errorResponses, JobState, Page } from './schemas.js';

/** GET /jobs: filters, sort, offset or cursor paging, and a capped total. */

const CommaList = Type.Union([Type.Array(Type.String()), Type.String()]);
const list = (v: string | string[] | undefined): string[] | undefined =>
  v === undefined
    ? undefined
    : (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).filter(Boolean);

const ListQuery = Type.Intersect([
  Page,
  Type.Object({
    cursor: Type.Optional(
      Type.String({
        description:
          'The `next` of the previous page (same filters and sort): the page after it, read from the index however deep (offset must then be 0). Sorts on queued_at, started_at or ended_at page by offset only.',
      }),
    ),
    state: Type.Optional(CommaList),
    user: Type.Optional(CommaList),
    type: Type.Optional(CommaList),
    pool: Type.Optional(CommaList),
    project: Type.Optional(CommaList),
    group: Type.Optional(CommaList),
    batch: Type.Optional(Type.Array(Type.Integer())),
    parent: Type.Optional(
      Type.Integer({ minimum: 1, description: 'Only the child jobs of this parent job' }),
    ),
    dependsOn: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_ID,
        description: 'Only the jobs that wait on this job',
      }),
    ),
    dependencyOf: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_ID,
        description: 'Only the jobs this job waits on',
      }),
    ),
    q: Type.Optional(
      Type.String({ description: 'Case-insensitive substring of the job name (% and _ literal)' }),
    ),
    createdAfter: Type.Optional(Type.String({ format: 'date-time' })),
    createdBefore: Type.Optional(Type.String({ format: 'date-time' })),
    startedAfter: Type.Optional(Type.String({ format: 'date-time' })),
    startedBefore: Type.Optional(Type.String({ format: 'date-time' })),
    endedAfter: Type.Optional(Type.String({ format: 'date-time' })),
    endedBefore: Type.Optional(Type.String({ format: 'date-time' })),
    deleted: Type.Optional(
      Type.Union([Type.Literal('exclude'), Type.Literal('include'), Type.Literal('only')]),
    ),
    sort: Type.Optional(
      Type.String({
        description: `Comma list of fields, '-' for descending: ${JOB_SORT_FIELDS.join(', ')}`,
      }),
    ),
  }),
]);

const JobListPage = Type.Object({
  items: Type.Array(Job),
  total: Type.Integer({
    description:
      'How many jobs match: exact up to 10,000 on PostgreSQL and 100,000 on SQLite; above, an estimate (PostgreSQL: the planner\'s, at least 10,001; SQLite: 100,001, read "more than 100,000")',
  }),
  totalExact: Type.Boolean({ description: 'False when total is an estimate' }),
  limit: Type.Integer(),
  offset: Type.Integer(),
  next: Type.Union([Type.String(), Type.Null()], {
    description: 'Pass as cursor for the next page; null on the last page or a nullable sort',
  }),
});

/**
 * `project=` alone is the jobs without a project; otherwise a comma list of names (an empty
 * item in it, as in `a,`, also stands for none).
 */
const projectList = (v: string | string[]): string[] =>
  (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(','));

/** An ISO-8601 date-time from the API as ms since the epoch. */
export const time = (field: string, value: string | undefined): number | undefined => {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw invalid(`${field} must be an ISO-8601 date-time`, { field });
  return ms;
};

function parseSort(text: string | undefined): JobSort[] {
  if (!text) return [{ field: 'id', direction: 'desc' }];
  return text.split(',').map((part) => {
    const direction = part.startsWith('-') ? 'desc' : 'asc';
    const field = part.replace(/^[-+]/, '');
    if (!(JOB_SORT_FIELDS as readonly string[]).includes(field)) {
      throw invalid(`cannot sort by "${field}"; use ${JOB_SORT_FIELDS.join(', ')}`, {
        field: 'sort',
      });
    }
    return { field: field as JobSortField, direction };
  });
}

async function listFilter(engine: Engine, q: Static<typeof ListQuery>): Promise<JobFilter> {
  let jobTypeIds: number[] | undefined;
  const typeNames = list(q.type);
  if (typeNames?.length) {
    const found = await Promise.all(
      typeNames.map((n) => findJobTypeByName(engine.database.readDb, n)),
    );
    jobTypeIds = found.filter((t) => t !== undefined).map((t) => t.id);
  }
  const states = list(q.state)?.map((s) => s.toUpperCase());
  for (const s of states ?? []) {
    if (!(JobState.enum as string[]).includes(s)) {
      throw invalid(`unknown state "${s}"`, { field: 'state' });
    }
  }
  return {
    ...(states ? { states } : {}),
    ...(list(q.user) ? { users: list(q.user)! } : {}),
    ...(jobTypeIds ? { jobTypeIds } : {}),
    ...(list(q.pool) ? { pools: list(q.pool)! } : {}),
    ...(q.project !== undefined ? { projects: projectList(q.project) } : {}),
    ...(list(q.group) ? { groups: list(q.group)! } : {}),
    ...(q.batch ? { batchIds: q.batch } : {}),
    ...(q.parent !== undefined ? { parentId: q.parent } : {}),
    ...(q.dependsOn !== undefined ? { dependsOn: q.dependsOn } : {}),
    ...(q.dependencyOf !== undefined ? { dependencyOf: q.dependencyOf } : {}),
    ...(q.q ? { text: q.q } : {}),
    createdAfter: time('createdAfter', q.createdAfter),
    createdBefore: time('createdBefore', q.createdBefore),
    startedAfter: time('startedAfter', q.startedAfter),
    startedBefore: time('startedBefore', q.startedBefore),
    endedAfter: time('endedAfter', q.endedAfter),
    endedBefore: time('endedBefore', q.endedBefore),
    deleted: q.deleted ?? 'exclude',
  };
}

export function jobListRoute(engine: Engine): FastifyPluginAsyncTypebox {
  // Lists read through the read connection: on SQLite they never wait for a write.
  const { readDb, dialect } = engine.database;
  return async (app) => {
    app.get(
      '/jobs',
      {
        schema: {
          tags: ['jobs'],
          summary: 'List jobs with filters, sort and pagination (offset or cursor)',
          querystring: ListQuery,
          response: { 200: JobListPage, ...errorResponses },
        },
      },
      async (request) => {
        const q = request.query;
        const limit = q.limit ?? 50;
        const offset = q.offset ?? 0;
        const sort = parseSort(q.sort);
        let after: (string | number)[] | undefined;
        if (q.cursor !== undefined) {
          if (offset !== 0)
            throw invalid('cursor and offset exclude each other', { field: 'offset' });
          after = decodeCursor(listOrder(sort), q.cursor);
          if (!after) {
            throw invalid('cursor is not the next of a list with this sort', { field: 'cursor' });
          }
        }
        const filter = await listFilter(engine, q);
        const page = await listJobs(readDb, dialect, filter, sort, {
          limit,
          offset,
          ...(after ? { after } : {}),
        });
        // The page's job types in one query, not one each: on PostgreSQL each was a round
        // trip of its own, 7 of them on a page of the list benchmark's jobs. The page's
        // parents (no tasks of their own) take their steps' progress, read for all of them
        // in one grouped query beside it.
        const [types, families] = await Promise.all([
          jobTypesByIds(
            readDb,
            page.rows.map((r) => r.job_type_id),
          ),
          familyProgress(
            readDb,
            page.rows.filter((r) => r.task_count === 0).map((r) => r.id),
          ),
        ]);
        return {
          items: page.rows.map((r) =>
            jobJson(r, types.get(r.job_type_id)!, { family: families.get(r.id) }),
          ),
          total: page.total,
          totalExact: page.totalExact,
          limit,
          offset,
          next: page.next ?? null,
        };
      },
    );
  };
}
