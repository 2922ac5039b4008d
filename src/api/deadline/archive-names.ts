import type { JobRow } from '../../store/schema.js';
import { toDeadlineId } from './ids.js';

/** Deadline names an archive after the job and its id; only safe characters are kept. */
export function archiveFileName(job: Pick<JobRow, 'id' | 'name'>): string {
  const safe =
    job.name
      .replace(/[^A-Za-z0-9_.-]+/g, '_')
      .replace(/^[._]+/, '')
      .slice(0, 80) || 'job';
  return `${safe}__${toDeadlineId(job.id)}.json`;
}
