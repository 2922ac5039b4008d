import type { Executor } from './database.js';
import type { JobTypeRevisionRow, JobTypeRow, JobTypesTable } from './schema.js';

export async function insertJobType(tx: Executor, row: Omit<JobTypesTable, 'id'>): Promise<number> {
  const { id } = await tx
    .insertInto('job_types')
    .values(row)
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(id);
}

export async function updateJobType(
  tx: Executor,
  id: number,
  patch: Partial<Omit<JobTypesTable, 'id'>>,
): Promise<void> {
  await tx.updateTable('job_types').set(patch).where('id', '=', id).execute();
}

export async function insertRevision(
  tx: Executor,
  jobTypeId: number,
  revisionNum: number,
  definitionJson: string,
  manifestJson: string | null,
  now: number,
  /** A Seed manifest or a required file output: each finish is judged (migration 0041). */
  judgesOutputs: boolean,
): Promise<number> {
  const { id } = await tx
    .insertInto('job_type_revisions')
    .values({
      job_type_id: jobTypeId,
      revision_num: revisionNum,
      definition_json: definitionJson,
      manifest_json: manifestJson,
      created_at: now,
      judges_outputs: judgesOutputs ? 1 : 0,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(id);
}

export async function findJobType(db: Executor, id: number): Promise<JobTypeRow | undefined> {
  return db.selectFrom('job_types').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The job type of that name: the given version, or the most recently created one. */
export async function findJobTypeByName(
  db: Executor,
  name: string,
  version?: string,
): Promise<JobTypeRow | undefined> {
  let q = db.selectFrom('job_types').selectAll().where('name', '=', name);
  if (version !== undefined) q = q.where('version', '=', version);
  return q.orderBy('id', 'desc').limit(1).executeTakeFirst();
}

export async function listJobTypes(
  db: Executor,
  options: { name?: string; limit: number; offset: number },
): Promise<{ rows: JobTypeRow[]; total: number }> {
  let base = db.selectFrom('job_types');
  if (options.name !== undefined) base = base.where('name', '=', options.name);
  const [rows, count] = await Promise.all([
    base
      .selectAll()
      .orderBy('name')
      .orderBy('version')
      .limit(options.limit)
      .offset(options.offset)
      .execute(),
    base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(count.n) };
}

export async function findRevision(
  db: Executor,
  jobTypeId: number,
  revisionNum: number,
): Promise<JobTypeRevisionRow | undefined> {
  return db
    .selectFrom('job_type_revisions')
    .selectAll()
    .where('job_type_id', '=', jobTypeId)
    .where('revision_num', '=', revisionNum)
    .executeTakeFirst();
}

export async function findRevisionById(
  db: Executor,
  id: number,
): Promise<JobTypeRevisionRow | undefined> {
  return db.selectFrom('job_type_revisions').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The Seed manifest of the type revision a job is pinned to; null for other job types. */
export async function manifestOfJob(db: Executor, jobId: number): Promise<string | null> {
  const row = await db
    .selectFrom('jobs as j')
    .innerJoin('job_type_revisions as r', 'r.id', 'j.job_type_rev_id')
    .select('r.manifest_json')
    .where('j.id', '=', jobId)
    .executeTakeFirst();
  return row?.manifest_json ?? null;
}

/** Of `jobIds`, those whose type revision judges a finished task's outputs (migration 0041). */
export async function jobsWhoseRevisionJudgesOutputs(
  db: Executor,
  jobIds: readonly number[],
): Promise<Set<number>> {
  if (jobIds.length === 0) return new Set();
  const rows = await db
    .selectFrom('jobs as j')
    .innerJoin('job_type_revisions as r', 'r.id', 'j.job_type_rev_id')
    .select('j.id')
    .where('j.id', 'in', [...jobIds])
    .where('r.judges_outputs', '=', 1)
    .execute();
  return new Set(rows.map((r) => r.id));
}

/** A job's revision documents: its Seed manifest (or null) and its canonical definition. */
export async function revisionDocumentsOfJob(
  db: Executor,
  jobId: number,
): Promise<{ manifest_json: string | null; definition_json: string } | undefined> {
  return db
    .selectFrom('jobs as j')
    .innerJoin('job_type_revisions as r', 'r.id', 'j.job_type_rev_id')
    .select(['r.manifest_json', 'r.definition_json'])
    .where('j.id', '=', jobId)
    .executeTakeFirst();
}

export async function listRevisions(
  db: Executor,
  jobTypeId: number,
): Promise<JobTypeRevisionRow[]> {
  return db
    .selectFrom('job_type_revisions')
    .selectAll()
    .where('job_type_id', '=', jobTypeId)
    .orderBy('revision_num')
    .execute();
}

/** Whether any job in the database (deleted ones included) is of the job type. */
export async function jobTypeHasJobs(db: Executor, jobTypeId: number): Promise<boolean> {
  const row = await db
    .selectFrom('jobs')
    .select('id')
    .where('job_type_id', '=', jobTypeId)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** Removes a job type and its revisions; no job may refer to it. */
export async function deleteJobType(tx: Executor, jobTypeId: number): Promise<void> {
  await tx.deleteFrom('job_type_revisions').where('job_type_id', '=', jobTypeId).execute();
  await tx.deleteFrom('job_types').where('id', '=', jobTypeId).execute();
}
