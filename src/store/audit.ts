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

/** Rows a single insert carries: 10 columns each, well under either database's limit. */
const ROWS_PER_INSERT = 500;

/** Inserts many entries, a few hundred rows per statement; returns their ids in order. */
export async function insertAuditEvents(
  tx: Executor,
  rows: readonly Omit<AuditEventsTable, 'id'>[],
): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
    const inserted = await tx
      .insertInto('audit_events')
      .values(rows.slice(i, i + ROWS_PER_INSERT))
      .returning('id')
      .execute();
    ids.push(...inserted.map((r) => Number(r.id)));
  }
  return ids;
}

/** Newest first. */
export async function listAuditEvents(
  db: Executor,
  options: { jobId?: number; limit: number; before?: number },
): Promise<AuditEventRow[]> {
  let query = db.selectFrom('audit_events').selectAll();
  if (options.jobId !== undefined) query = query.where('job_id', '=', options.jobId);
  if (options.before !== undefined) query = query.where('id', '<', options.before);
  return query.orderBy('id', 'desc').limit(options.limit).execute();
}
