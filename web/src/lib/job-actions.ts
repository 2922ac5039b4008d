import type { Job, JobState } from '../api/types';

/*
 * Which job actions the UI offers for which states. It mirrors the server's job state
 * machine (src/domain/job-state.ts) so that a button is never shown for a job that would
 * only be refused; the server still decides, and its refusals are still reported, since a
 * row's state may have moved since it was drawn.
 */

export type JobCommand =
  | 'suspend'
  | 'resume'
  | 'retry'
  | 'requeue'
  | 'pend'
  | 'release'
  | 'cancel'
  | 'delete'
  | 'undelete'
  | 'purge';

const FROM: Record<Exclude<JobCommand, 'delete' | 'undelete' | 'purge'>, readonly JobState[]> = {
  suspend: ['PENDING', 'QUEUED', 'RUNNING'],
  // A FAILED job is retried (its failed tasks requeued), not resumed.
  resume: ['SUSPENDED'],
  retry: ['FAILED'],
  requeue: ['QUEUED', 'RUNNING', 'SUSPENDED', 'COMPLETED', 'FAILED', 'CANCELED'],
  pend: ['QUEUED', 'RUNNING', 'SUSPENDED', 'FAILED'],
  release: ['PENDING'],
  cancel: ['PENDING', 'QUEUED', 'RUNNING', 'SUSPENDED', 'FAILED'],
};

/** Whether `command` applies to a job as it was last seen. Deleted jobs only come back or go. */
export function allows(job: Pick<Job, 'state' | 'deleted'>, command: JobCommand): boolean {
  if (command === 'undelete' || command === 'purge') return job.deleted;
  if (job.deleted) return false;
  if (command === 'delete') return true;
  return FROM[command].includes(job.state);
}

/** Commands that ask first, since they cannot be taken back (or, for delete, not easily). */
export const CONFIRMED: ReadonlySet<JobCommand> = new Set(['cancel', 'delete', 'purge']);
