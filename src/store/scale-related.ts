import { sql, type SqlBool } from 'kysely';
import type { Executor } from './database.js';
import type { ExecutionRow, JobTypeRevisionRow, JobTypeRow, NodeRow } from './schema.js';

/* Batch reads behind the Scale serializers: one query per related table per page. */

export async function jobTypesByIds(
  db: Executor,
  ids: readonly number[],
): Promise<Map<number, JobTypeRow>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('job_types')
    .selectAll()
    .where('id', 'in', [...new Set(ids)])
    .execute();
  return new Map(rows.map((r) => [Number(r.id), r]));
}

export async function revisionsByIds(
  db: Executor,
  ids: readonly number[],
): Promise<Map<number, JobTypeRevisionRow>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('job_type_revisions')
    .selectAll()
    .where('id', 'in', [...new Set(ids)])
    .execute();
  return new Map(rows.map((r) => [Number(r.id), r]));
}

/** The latest revision of each of these job types. */
export async function latestRevisions(
  db: Executor,
  types: readonly JobTypeRow[],
): Promise<Map<number, JobTypeRevisionRow>> {
  const out = new Map<number, JobTypeRevisionRow>();
  if (types.length === 0) return out;
  const rows = await db
    .selectFrom('job_type_revisions as r')
    .innerJoin('job_types as t', 't.id', 'r.job_type_id')
    .selectAll('r')
    .where(
      't.id',
      'in',
      types.map((t) => t.id),
    )
    .whereRef('r.revision_num', '=', 't.latest_revision')
    .execute();
  for (const r of rows) out.set(Number(r.job_type_id), r);
  return out;
}

export async function nodesByIds(
  db: Executor,
  ids: readonly number[],
): Promise<Map<number, NodeRow>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('nodes')
    .selectAll()
    .where('id', 'in', [...new Set(ids)])
    .execute();
  return new Map(rows.map((r) => [Number(r.id), r]));
}

/** Each job's execution with the highest exe_num. */
export async function latestExecutionsOfJobs(
  db: Executor,
  jobIds: readonly number[],
): Promise<Map<number, ExecutionRow>> {
  const out = new Map<number, ExecutionRow>();
  if (jobIds.length === 0) return out;
  const rows = await db
    .selectFrom('executions as e')
    .selectAll('e')
    .where('e.job_id', 'in', jobIds)
    .where(
      'e.exe_num',
      '=',
      sql<number>`(select max(x.exe_num) from executions x where x.job_id = e.job_id)`,
    )
    .execute();
  for (const r of rows) out.set(Number(r.job_id), r);
  return out;
}

export async function executionOfJob(
  db: Executor,
  jobId: number,
  exeNum: number,
): Promise<ExecutionRow | undefined> {
  return db
    .selectFrom('executions')
    .selectAll()
    .where('job_id', '=', jobId)
    .where('exe_num', '=', exeNum)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
}

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
  page: { limit: number; offset: number },
): Promise<{ rows: ExecutionRow[]; total: number }> {
  let base = db.selectFrom('executions as e').where('e.job_id', '=', jobId);
  if (filter.states)
    base = base.where('e.state', 'in', filter.states.length ? filter.states : ['']);
  if (filter.nodeIds)
    base = base.where('e.node_id', 'in', filter.nodeIds.length ? filter.nodeIds : [-1]);
  if (filter.errorNames)
    base = base.where('e.error_name', 'in', filter.errorNames.length ? filter.errorNames : ['']);
  if (filter.errorCategories) {
    const categories = filter.errorCategories.length ? filter.errorCategories : [''];
    base = base.where(
      sql<SqlBool>`exists (select 1 from errors er where er.name = e.error_name and er.category in (${sql.join(categories)}))`,
    );
  }
  const [rows, count] = await Promise.all([
    base
      .selectAll('e')
      .orderBy('e.exe_num', 'desc')
      .orderBy('e.id', 'desc')
      .limit(page.limit)
      .offset(page.offset)
      .execute(),
    base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(count.n) };
}

/** Every execution of a job, oldest first. */
export async function executionsOfJob(db: Executor, jobId: number): Promise<ExecutionRow[]> {
  return db
    .selectFrom('executions')
    .selectAll()
    .where('job_id', '=', jobId)
    .orderBy('exe_num')
    .orderBy('id')
    .execute();
}

/** Updates what a dialect keeps of a job's submission. */
export async function setJobDialect(
  tx: Executor,
  jobId: number,
  dialect: Record<string, unknown>,
  now: number,
): Promise<void> {
  await tx
    .updateTable('jobs')
    .set({ dialect_json: JSON.stringify(dialect), last_modified: now })
    .where('id', '=', jobId)
    .execute();
}

/** Job types, by name and version, for Scale's job type list. */
export async function listJobTypesPage(
  db: Executor,
  filter: { names?: string[]; isActive?: boolean; isSystem?: boolean; ids?: number[] },
  page: { limit: number; offset: number },
): Promise<{ rows: JobTypeRow[]; total: number }> {
  let base = db.selectFrom('job_types');
  if (filter.names?.length) base = base.where('name', 'in', filter.names);
  if (filter.ids) base = base.where('id', 'in', filter.ids.length ? filter.ids : [-1]);
  if (filter.isActive !== undefined) base = base.where('is_active', '=', filter.isActive ? 1 : 0);
  if (filter.isSystem !== undefined) base = base.where('is_system', '=', filter.isSystem ? 1 : 0);
  const [rows, count] = await Promise.all([
    base
      .selectAll()
      .orderBy('name')
      .orderBy('version')
      .limit(page.limit)
      .offset(page.offset)
      .execute(),
    base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(count.n) };
}
