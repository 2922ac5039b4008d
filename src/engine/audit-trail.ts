import { insertAuditEvent, listAuditEvents } from '../store/audit.js';
import type { AuditEventRow, AuditEventsTable } from '../store/schema.js';
import { inTransaction, type EngineContext } from './context.js';

export type AuditEntry = Omit<AuditEventsTable, 'id' | 'at'>;

/** Records the entry; one about a job is announced too, so the job's page shows it live. */
export async function recordAuditEvent(ctx: EngineContext, entry: AuditEntry): Promise<void> {
  await inTransaction(ctx, async (tx, emit) => {
    const auditId = await insertAuditEvent(tx, { ...entry, at: ctx.clock() });
    if (entry.job_id !== null) emit({ type: 'audit.recorded', jobId: entry.job_id, auditId });
  });
}

export async function auditEventsOf(
  ctx: EngineContext,
  options: { jobId?: number; limit: number },
): Promise<AuditEventRow[]> {
  return listAuditEvents(ctx.db, options);
}
