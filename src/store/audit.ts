import type { Executor } from './database.js';
import type { AuditEventRow, AuditEventsTable } from './schema.js';

export async function insertAuditEvent(
  tx: Executor,
  row: Omit<AuditEventsTable, 'id'>,
): Promise<number> {
  const { id } = await tx
    .insertInto('audit_events')
    .values(row)
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(id);
}

/** Newest first. */
export async function listAuditEvents(
  db: Executor,
  options: { jobId?: number; limit: number },
): Promise<AuditEventRow[]> {
  let query = db.selectFrom('audit_events').selectAll();
  if (options.jobId !== undefined) query = query.where('job_id', '=', options.jobId);
  return query.orderBy('id', 'desc').limit(options.limit).execute();
}
