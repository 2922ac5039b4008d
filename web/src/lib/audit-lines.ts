import type { AuditEvent } from '../api/types';

/* How an audit-trail entry reads on a job's page: "suspended by bob via Deadline". */

const PAST: Record<string, string> = {
  suspend: 'suspended',
  resume: 'resumed',
  requeue: 'requeued',
  cancel: 'canceled',
  fail: 'failed',
  complete: 'completed',
  pend: 'pended',
  release: 'released',
  delete: 'deleted',
  undelete: 'undeleted',
  purge: 'purged',
  'hard-delete': 'deleted for good',
  reinstate: 'reinstated',
  archive: 'archived',
  retry: 'retried',
  reset: 'reset',
  save: 'changed',
  setjobmachinelimit: 'changed',
};

const FACES: Record<string, string> = {
  native: 'the native API',
  deadline: 'Deadline',
  ufdl: 'UFDL',
  scale: 'Scale',
};

/** suspend → "suspended"; a route (PATCH /api/v1/jobs/:id) → "changed" or "deleted". */
function pastTense(entry: AuditEvent): string {
  const known = PAST[entry.action.toLowerCase()];
  if (known) return known;
  if (entry.action.includes(' ')) return entry.method === 'DELETE' ? 'deleted' : 'changed';
  return entry.action.toLowerCase();
}

export function auditLine(entry: AuditEvent): string {
  const face = FACES[entry.face] ?? entry.face;
  if (entry.status >= 400) {
    const verb = entry.action.includes(' ') ? 'change' : entry.action.toLowerCase();
    return `${entry.actor} tried to ${verb} it via ${face}: refused (${entry.status})`;
  }
  return `${pastTense(entry)} by ${entry.actor} via ${face}`;
}
