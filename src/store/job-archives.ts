import type { Executor } from './database.js';
import type { ExecutionRow } from './schema.js';

/* The records of archived jobs and the reads an archive file is made of. */

export async function insertArchiveRecord(
  tx: Executor,
  jobId: number,
  path: string,
  now: number,
): Promise<void> {
  await tx.insertInto('job_archives').values({ job_id: jobId, path, created_at: now }).execute();
}

export async function executionsOfJob(db: Executor, jobId: number): Promise<ExecutionRow[]> {
  return db
    .selectFrom('executions')
    .selectAll()
    .where('job_id', '=', jobId)
    .orderBy('id')
    .execute();
}
