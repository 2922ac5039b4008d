import { createHash } from 'node:crypto';
import type { Executor } from './database.js';

export async function insertBlob(tx: Executor, data: Uint8Array, now: number): Promise<number> {
  const { id } = await tx
    .insertInto('blobs')
    .values({
      size: data.byteLength,
      sha256: createHash('sha256').update(data).digest('hex'),
      data: Buffer.from(data.buffer, data.byteOffset, data.byteLength),
      created_at: now,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(id);
}

export async function readBlob(db: Executor, id: number): Promise<Uint8Array | undefined> {
  const row = await db.selectFrom('blobs').select('data').where('id', '=', id).executeTakeFirst();
  return row?.data;
}

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
