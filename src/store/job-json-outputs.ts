import type { Executor } from './database.js';
import { withSourceTables, type JobJsonOutputsTable } from './source-tables.js';

/** Keeps a job's json outputs; a later successful execution's replace an earlier one's. */
export async function saveJobJsonOutputs(tx: Executor, row: JobJsonOutputsTable): Promise<void> {
  await withSourceTables(tx)
    .insertInto('job_json_outputs')
    .values(row)
    .onConflict((oc) =>
      oc.column('job_id').doUpdateSet({
        execution_id: row.execution_id,
        values_json: row.values_json,
        created_at: row.created_at,
      }),
    )
    .execute();
}

/** A job's json outputs by name; empty when it has none. */
export async function jsonOutputsOfJob(
  db: Executor,
  jobId: number,
): Promise<Record<string, unknown>> {
  const row = await withSourceTables(db)
    .selectFrom('job_json_outputs')
    .select('values_json')
    .where('job_id', '=', jobId)
    .executeTakeFirst();
  return row ? (JSON.parse(row.values_json) as Record<string, unknown>) : {};
}
