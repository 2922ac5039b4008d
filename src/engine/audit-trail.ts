import { insertAuditEvent, listAuditEvents } from '../store/audit.js';
import type { AuditEventRow, AuditEventsTable } from '../store/schema.js';
import type { EngineContext } from './context.js';

export type AuditEntry = Omit<AuditEventsTable, 'id' | 'at'>;

export async function recordAuditEvent(ctx: EngineContext, entry: AuditEntry): Promise<void> {
  await insertAuditEvent(ctx.db, { ...entry, at: ctx.clock() });
}

export async function auditEventsOf(
  ctx: EngineContext,
  options: { jobId?: number; limit: number },
): Promise<AuditEventRow[]> {
  return listAuditEvents(ctx.db, options);
}
