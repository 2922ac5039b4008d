import type { Selectable } from 'kysely';
import type { Executor } from './database.js';
import type { BatchesTable, TriggerEventsTable } from './schema.js';

export type TriggerEventRow = Selectable<TriggerEventsTable>;
export type BatchRow = Selectable<BatchesTable>;

export async function insertTriggerEvent(
  tx: Executor,
  type: string,
  description: Record<string, unknown>,
  occurred: number,
): Promise<number> {
  const { id } = await tx
    .insertInto('trigger_events')
    .values({ type, description_json: JSON.stringify(description), occurred })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(id);
}

export async function findTriggerEvents(
  db: Executor,
  ids: readonly number[],
): Promise<Map<number, TriggerEventRow>> {
  if (ids.length === 0) return new Map();
  const rows = await db.selectFrom('trigger_events').selectAll().where('id', 'in', ids).execute();
  return new Map(rows.map((r) => [Number(r.id), r]));
}

export async function insertBatch(tx: Executor, row: Omit<BatchesTable, 'id'>): Promise<number> {
  const { id } = await tx
    .insertInto('batches')
    .values(row)
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(id);
}

export async function findBatches(
  db: Executor,
  ids: readonly number[],
): Promise<Map<number, BatchRow>> {
  if (ids.length === 0) return new Map();
  const rows = await db.selectFrom('batches').selectAll().where('id', 'in', ids).execute();
  return new Map(rows.map((r) => [Number(r.id), r]));
}

export async function listBatches(
  db: Executor,
  page: { limit: number; offset: number },
): Promise<{ rows: BatchRow[]; total: number }> {
  const base = db.selectFrom('batches');
  const [rows, count] = await Promise.all([
    base.selectAll().orderBy('id', 'desc').limit(page.limit).offset(page.offset).execute(),
    base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(count.n) };
}
