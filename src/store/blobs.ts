import type { Executor } from './database.js';

/** Blobs are shared by id only from outputs; the job's outputs go with the job (cascade). */
export async function deleteBlobsOfJob(tx: Executor, jobId: number): Promise<void> {
  const ids = await tx
    .selectFrom('outputs')
    .select('blob_id')
    .where('job_id', '=', jobId)
    .execute();
  if (ids.length === 0) return;
  await tx.deleteFrom('outputs').where('job_id', '=', jobId).execute();
  await tx
    .deleteFrom('blobs')
    .where(
      'id',
      'in',
      ids.map((r) => r.blob_id),
    )
    .execute();
}
