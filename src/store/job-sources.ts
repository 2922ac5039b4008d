import type { Executor } from './database.js';
import { withSourceTables, type JobSourcesTable } from './source-tables.js';

export type JobSources = JobSourcesTable;

export async function insertJobSources(tx: Executor, row: JobSources): Promise<void> {
  await withSourceTables(tx).insertInto('job_sources').values(row).execute();
}

export async function sourcesOfJobs(
  db: Executor,
  jobIds: readonly number[],
): Promise<Map<number, JobSources>> {
  if (jobIds.length === 0) return new Map();
  const rows = await withSourceTables(db)
    .selectFrom('job_sources')
    .selectAll()
    .where('job_id', 'in', jobIds)
    .execute();
  return new Map(rows.map((r) => [Number(r.job_id), r]));
}
