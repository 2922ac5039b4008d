import { insertAuditEvent, insertAuditEvents, listAuditEvents } from '../../store/audit.js';
import type { AuditEventRow, AuditEventsTable } from '../../store/schema.js';
import type { EngineContext } from '../context.js';

/** `at` defaults to now. */
export type AuditEntry = Omit<AuditEventsTable, 'id' | 'at'> & { at?: number };

/**
 * Records the entry; one about a job is announced too, so the job's page shows it live.
 * One insert commits by itself, so the event is delivered after it without a transaction:
 * an explicit one here, still running from a response hook as a server closed, held its
 * PostgreSQL connection and kept the pool from ending.
 */
export async function recordAuditEvent(ctx: EngineContext, entry: AuditEntry): Promise<void> {
  const at = entry.at ?? ctx.clock();
  const auditId = await insertAuditEvent(ctx.db, { ...entry, at });
  if (entry.job_id !== null) {
    ctx.bus.deliver([{ type: 'audit.recorded', jobId: entry.job_id, auditId, at }]);
  }
}

/**
 * Records one entry per job a request acted on (a bulk command, a task's action, a list of
 * Deadline job ids), so each job's history shows it; a few statements for thousands of jobs.
 */
export async function recordJobAuditEvents(
  ctx: EngineContext,
  entry: Omit<AuditEntry, 'job_id'>,
  jobIds: readonly number[],
): Promise<void> {
  if (jobIds.length === 0) return;
  if (jobIds.length === 1) return recordAuditEvent(ctx, { ...entry, job_id: jobIds[0]! });
  const at = entry.at ?? ctx.clock();
  const ids = await insertAuditEvents(
    ctx.db,
    jobIds.map((jobId) => ({ ...entry, job_id: jobId, at })),
  );
  ctx.bus.deliver(
    ids.map((auditId, i) => ({ type: 'audit.recorded', jobId: jobIds[i]!, auditId, at })),
  );
}

export async function auditEventsOf(
  ctx: EngineContext,
  options: { jobId?: number; limit: number; before?: number },
): Promise<AuditEventRow[]> {
  return listAuditEvents(ctx.db, options);
}
