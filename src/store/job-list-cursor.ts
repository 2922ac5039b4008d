import { sql, type SelectQueryBuilder, type SqlBool } from 'kysely';
import type { JobRow, Database } from './schema.js';

/*
 * Keyset pagination of job lists. A cursor carries the sort key of a page's last row; the
 * next page starts strictly after it, so it costs a few index entries however deep it is,
 * where OFFSET reads and drops every row before the page (offset 5,000 in a pool: 5,050
 * index entries and as many row lookups per request). The cursor is opaque to clients:
 * base64url JSON of the order it was made for and the key values.
 */

export interface JobOrderKey {
  field: Exclude<keyof JobRow, symbol>;
  direction: 'asc' | 'desc';
}

type JobQuery = SelectQueryBuilder<Database, 'jobs', object>;
type KeyValue = string | number;

/**
 * Columns that may be null sort first on SQLite and last on PostgreSQL, and a keyset
 * comparison with null matches nothing: lists sorted by them page by offset only.
 */
const NULLABLE = new Set<string>(['queued_at', 'started_at', 'ended_at']);

export function cursorAllowed(order: readonly JobOrderKey[]): boolean {
  return order.every((k) => !NULLABLE.has(k.field));
}

const orderText = (order: readonly JobOrderKey[]): string =>
  order.map((k) => (k.direction === 'desc' ? '-' : '') + k.field).join(',');

/** The cursor of the page after `row`, or undefined when this order cannot have one. */
export function encodeCursor(order: readonly JobOrderKey[], row: JobRow): string | undefined {
  if (!cursorAllowed(order)) return undefined;
  const values = order.map((k) => row[k.field]);
  return Buffer.from(JSON.stringify({ o: orderText(order), v: values })).toString('base64url');
}

/** The key values a cursor holds, or undefined when it was not made for this order. */
export function decodeCursor(
  order: readonly JobOrderKey[],
  cursor: string,
): KeyValue[] | undefined {
  if (!cursorAllowed(order)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { o, v } = parsed as { o?: unknown; v?: unknown };
  if (o !== orderText(order) || !Array.isArray(v) || v.length !== order.length) return undefined;
  const valid = v.every((x) => typeof x === 'string' || (typeof x === 'number' && isFinite(x)));
  return valid ? (v as KeyValue[]) : undefined;
}

/**
 * Rows strictly after `values` in `order` (whose last key is the unique id). One direction
 * throughout is a row-value comparison, which both databases turn into one index range;
 * mixed directions expand to `a < x or (a = x and (b > y or …))`, with `a <= x` beside it
 * so that the leading column still bounds the index scan.
 */
export function afterKey(
  query: JobQuery,
  order: readonly JobOrderKey[],
  values: readonly KeyValue[],
): JobQuery {
  const ops = order.map((k) => (k.direction === 'asc' ? ('>' as const) : ('<' as const)));
  const fields = order.map((k) => k.field);
  if (ops.every((op) => op === ops[0])) {
    if (fields.length === 1) return query.where(fields[0]!, ops[0]!, values[0]!);
    const columns = sql.join(fields.map((f) => sql.ref(f)));
    return query.where(sql<SqlBool>`(${columns}) ${sql.raw(ops[0]!)} (${sql.join([...values])})`);
  }
  return query.where(fields[0]!, ops[0] === '>' ? '>=' : '<=', values[0]!).where((eb) => {
    const after = (i: number): ReturnType<typeof eb.or> => {
      const strictly = eb(fields[i]!, ops[i]!, values[i]!);
      if (i === fields.length - 1) return eb.or([strictly]);
      return eb.or([strictly, eb.and([eb(fields[i]!, '=', values[i]!), after(i + 1)])]);
    };
    return after(0);
  });
}
