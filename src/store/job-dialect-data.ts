import type { Executor } from './database.js';

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
