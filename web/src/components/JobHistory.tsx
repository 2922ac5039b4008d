import type { AuditEvent } from '../api/types';
import { auditLine } from '../lib/audit-lines';

const clock = (iso: string) =>
  new Date(iso).toLocaleTimeString(undefined, {
    hour12: false,
    hour: '2-digit',
    minute: '2-digit',
  });

/** A job's audit trail, newest first: "suspended by bob via Deadline at 10:42". */
export function JobHistory({ entries }: { entries: AuditEvent[] }) {
  if (entries.length === 0) return <p className="muted">Nobody has changed this job yet.</p>;
  return (
    <ul className="history" data-testid="job-history">
      {entries.map((e) => (
        <li key={e.id} className={e.status >= 400 ? 'refused' : undefined}>
          {auditLine(e)} at{' '}
          <time dateTime={e.at} title={`${new Date(e.at).toLocaleString()} from ${e.address}`}>
            {clock(e.at)}
          </time>
        </li>
      ))}
    </ul>
  );
}
