import type { Scalar } from '../../store/list-query/index.js';

/*
 * The cursors of the native job list. A cursor carries the sort key of a page's last row;
 * the next page starts strictly after it (the store's keyset page), so it costs a few index
 * entries however deep it is, where OFFSET reads and drops every row before the page
 * (offset 5,000 in a pool: 5,050 index entries and as many row lookups per request). The
 * cursor is opaque to clients: base64url JSON of the order it was made for and the key
 * values.
 */

export interface JobOrderKey {
  field: string;
  direction: 'asc' | 'desc';
}

type KeyValue = string | number;

/**
 * Columns that may be null sort first on SQLite and last on PostgreSQL, and a keyset
 * comparison with null matches nothing: lists sorted by them page by offset only (the
 * store gives no next key for them either).
 */
const NULLABLE = new Set<string>(['queued_at', 'started_at', 'ended_at']);

export function cursorAllowed(order: readonly JobOrderKey[]): boolean {
  return order.every((k) => !NULLABLE.has(k.field));
}

const orderText = (order: readonly JobOrderKey[]): string =>
  order.map((k) => (k.direction === 'desc' ? '-' : '') + k.field).join(',');

/** The cursor of the page after the row whose key is `values`. */
export function encodeCursor(
  order: readonly JobOrderKey[],
  values: readonly Scalar[],
): string | undefined {
  if (!cursorAllowed(order)) return undefined;
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
