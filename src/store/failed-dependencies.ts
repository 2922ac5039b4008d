import type { Executor } from './database.js';

/** Which of these jobs depend on a job that FAILED or was CANCELED. */
export async function blockedJobIds(db: Executor, jobIds: readonly number[]): Promise<Set<number>> {
  if (jobIds.length === 0) return new Set();
  const rows = await db
    .selectFrom('job_dependencies as d')
    .innerJoin('jobs as dj', 'dj.id', 'd.depends_on_id')
    .select('d.job_id')
    .where('d.job_id', 'in', jobIds)
    .where('dj.state', 'in', ['FAILED', 'CANCELED'])
    .execute();
  return new Set(rows.map((r) => Number(r.job_id)));
}
