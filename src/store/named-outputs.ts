import type { Executor } from './database.js';
import type { OutputRow } from './outputs.js';

/*
 * Outputs looked up by (job, name, type), deleted ones included: UFDL names an output by
 * its name and type, and a deleted output still holds its name.
 */

export async function findOutputByNameAndType(
  db: Executor,
  jobId: number,
  name: string,
  type: string,
): Promise<OutputRow | undefined> {
  return db
    .selectFrom('outputs')
    .selectAll()
    .where('job_id', '=', jobId)
    .where('name', '=', name)
    .where('type', '=', type)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** Every output of these jobs, deleted ones included, oldest first. */
export async function allOutputsOfJobs(
  db: Executor,
  jobIds: readonly number[],
): Promise<OutputRow[]> {
  if (jobIds.length === 0) return [];
  const rows: OutputRow[] = [];
  for (let i = 0; i < jobIds.length; i += 1000) {
    rows.push(
      ...(await db
        .selectFrom('outputs')
        .selectAll()
        .where('job_id', 'in', jobIds.slice(i, i + 1000))
        .orderBy('id')
        .execute()),
    );
  }
  return rows;
}

export async function markOutputDeleted(tx: Executor, id: number, now: number): Promise<void> {
  await tx
    .updateTable('outputs')
    .set({ deleted_at: now })
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .execute();
}

export async function markOutputsOfJobDeleted(
  tx: Executor,
  jobId: number,
  now: number,
): Promise<void> {
  await tx
    .updateTable('outputs')
    .set({ deleted_at: now })
    .where('job_id', '=', jobId)
    .where('deleted_at', 'is', null)
    .execute();
}

export async function clearOutputDeleted(tx: Executor, id: number): Promise<void> {
  await tx.updateTable('outputs').set({ deleted_at: null }).where('id', '=', id).execute();
}

/** A live output of the job with this name and type other than `exceptId` (one replaced it). */
export async function findLiveOutputLike(
  db: Executor,
  output: Pick<OutputRow, 'id' | 'job_id' | 'name' | 'type'>,
): Promise<OutputRow | undefined> {
  return db
    .selectFrom('outputs')
    .selectAll()
    .where('job_id', '=', output.job_id)
    .where('name', '=', output.name)
    .where('type', '=', output.type)
    .where('id', '!=', output.id)
    .where('deleted_at', 'is', null)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** Removes one output row and its blob (each output owns its blob). */
export async function deleteOutputAndBlob(
  tx: Executor,
  output: Pick<OutputRow, 'id' | 'blob_id'>,
): Promise<void> {
  await tx.deleteFrom('outputs').where('id', '=', output.id).execute();
  await tx.deleteFrom('blobs').where('id', '=', output.blob_id).execute();
}

/** Outputs by id (those that exist), for any number of ids. */
export async function findOutputsByIds(db: Executor, ids: readonly number[]): Promise<OutputRow[]> {
  const rows: OutputRow[] = [];
  for (let i = 0; i < ids.length; i += 1000) {
    const batch = ids.slice(i, i + 1000);
    rows.push(...(await db.selectFrom('outputs').selectAll().where('id', 'in', batch).execute()));
  }
  return rows;
}

export type ChildOutputRow = OutputRow & { parent_id: number; child_name: string };

/**
 * The outputs of the completed children of these parent jobs, deleted ones included, with
 * each child's name: UFDL shows them as its meta-job's own (`child:name`).
 */
export async function outputsOfCompletedChildren(
  db: Executor,
  parentIds: readonly number[],
): Promise<ChildOutputRow[]> {
  const rows: ChildOutputRow[] = [];
  for (let i = 0; i < parentIds.length; i += 1000) {
    const found = await db
      .selectFrom('outputs as o')
      .innerJoin('jobs as c', 'c.id', 'o.job_id')
      .selectAll('o')
      .select(['c.parent_id', 'c.child_name'])
      .where('c.parent_id', 'in', parentIds.slice(i, i + 1000))
      .where('c.child_name', 'is not', null)
      .where('c.state', '=', 'COMPLETED')
      .orderBy('o.id')
      .execute();
    rows.push(...(found as ChildOutputRow[]));
  }
  return rows;
}
