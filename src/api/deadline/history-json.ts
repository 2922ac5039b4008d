import { auditEventsOf } from '../../engine/accounts/audit-trail.js';
import type { EngineContext } from '../../engine/context.js';
import type { AuditEventRow, JobRow } from '../../store/schema.js';
import { toDeadlineId } from './ids.js';
import { deadlineDate } from './job-json.js';

/*
 * A job's history entries (`/api/jobreports?Data=history`, JobReports.GetJobHistoryEntries):
 * what happened to the job and who did it, oldest first. Drover's record of that is the
 * job row (its submission and its end) and the audit trail (every change a person made,
 * through any face). Requests the server refused changed nothing and are left out.
 * The entry's fields are Drover's choice (Deadline's are not documented): the report's
 * `Job`, `Date`, `JobName`, `JobUser` and `_id` ("<job _id>_h<n>", n counting from 0),
 * with `Title` the entry's text, `User` who did it and `Mach` the address they came from.
 */

/** The changes shown per job: the latest ones; older changes beyond it are left out. */
export const HISTORY_LIMIT = 1000;

interface Entry {
  at: number;
  title: string;
  user: string;
  machine: string;
}

const ENDS: Record<string, string> = { COMPLETED: 'completed', FAILED: 'failed' };

function auditEntry(event: AuditEventRow): Entry {
  return {
    at: event.at,
    title: `Job ${event.action} by ${event.actor} via ${event.face}`,
    user: event.actor,
    machine: event.address,
  };
}

export async function jobHistory(
  ctx: EngineContext,
  job: JobRow,
): Promise<Record<string, unknown>[]> {
  // The latest changes when there are more than the limit, shown oldest first.
  const events = (await auditEventsOf(ctx, { jobId: job.id, limit: HISTORY_LIMIT })).reverse();
  const entries: Entry[] = [
    {
      at: job.created_at,
      title: `Job submitted by ${job.user_name}`,
      user: job.user_name,
      machine: '',
    },
    ...events.filter((e) => e.status < 400).map(auditEntry),
  ];
  const end = ENDS[job.state];
  if (end && job.ended_at !== null) {
    entries.push({ at: job.ended_at, title: `Job ${end}`, user: '', machine: '' });
  }
  // Stable: the submission first, then the trail's order, the end after what came at its time.
  const ordered = entries
    .map((entry, index) => ({ entry, index }))
    .sort((a, b) => a.entry.at - b.entry.at || a.index - b.index)
    .map((x) => x.entry);
  const jobId = toDeadlineId(job.id);
  return ordered.map((entry, n) => ({
    Job: jobId,
    Date: deadlineDate(entry.at),
    Title: entry.title,
    User: entry.user,
    Mach: entry.machine,
    JobName: job.name,
    JobUser: job.user_name,
    _id: `${jobId}_h${n}`,
  }));
}
