import { sql } from 'kysely';
import type { Executor } from './database.js';
import type { ExecutionRow, JobTypeRevisionRow, JobTypeRow, NodeRow } from './schema.js';

/*
 * Batch reads of the rows a page of jobs refers to (job types, revisions, nodes, executions):
 * one query per related table per page, for the faces that render related rows inline.
 */

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
