import { badRequest } from './errors.js';
import { fromDeadlineId } from './ids.js';
import { asString, isRecord, keyed } from './values.js';

/*
 * How a `save` reads Props.Dep and Props.PlugInfo, which the engine holds (the job's
 * dependencies and its type's parameters). A client sends back the document it fetched, so
 * "unchanged" is judged by meaning, not by the JSON text: the same ids in another order or
 * form, or PlugInfo values typed instead of strings, change nothing.
 */

/**
 * The job ids a saved Props.Dep names: the objects GET shows (`{JobID, Notes, …}`), or plain
 * ids (24-hex `_id` or a decimal native id), as a list or a comma-separated string.
 */
export function dependencyIdsOf(value: unknown): number[] {
  if (value === undefined || value === null) return [];
  const ids: number[] = [];
  for (const item of Array.isArray(value) ? value : [value]) {
    let texts: unknown[];
    if (isRecord(item)) {
      const id = keyed(item)('JobID');
      if (id === undefined || id === null) {
        throw badRequest('Props.Dep holds an entry without a JobID.');
      }
      texts = [id];
    } else {
      texts = typeof item === 'string' ? item.split(',') : [item];
    }
    for (const text of texts) {
      if (typeof text === 'string' && text.trim() === '') continue;
      const id = fromDeadlineId(text);
      if (id === undefined) {
        throw badRequest(`Props.Dep holds "${asString(text) ?? ''}", which is not a job ID.`);
      }
      ids.push(id);
    }
  }
  return ids;
}

export function sameIds(a: readonly number[], b: readonly number[]): boolean {
  const key = (ids: readonly number[]) => JSON.stringify([...new Set(ids)].sort((x, y) => x - y));
  return key(a) === key(b);
}

/** PlugInfo as Deadline shows it: string values, compared without regard to key order. */
export function samePlugInfo(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const key = (r: Record<string, unknown>) =>
    JSON.stringify(
      Object.entries(r)
        .map(([k, v]) => [k, asString(v) ?? ''] as const)
        .sort(([x], [y]) => x.localeCompare(y)),
    );
  return key(a) === key(b);
}
