/*
 * JobInfo, PluginInfo and command bodies arrive with values as strings (SubmitJobFiles,
 * string-built bodies) or typed JSON (SubmitJob, json.dumps): every reader accepts both.
 */

export function asString(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

export function asBool(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  if (typeof value !== 'string') return undefined;
  if (/^\s*(true|1|yes|on)\s*$/i.test(value)) return true;
  if (/^\s*(false|0|no|off|)\s*$/i.test(value)) return false;
  return undefined;
}

export function asNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const n = Number(value.trim());
  return Number.isFinite(n) ? n : undefined;
}

export function asInt(value: unknown): number | undefined {
  const n = asNumber(value);
  return n !== undefined && Number.isSafeInteger(n) ? n : undefined;
}

/** A comma (or whitespace-free) list given as "a,b" or ["a","b"]; empty items dropped. */
export function asList(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  const items = Array.isArray(value) ? value : [value];
  return items
    .flatMap((v) => (asString(v) ?? '').split(','))
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** Looks a key up the way Deadline reads JobInfo: without regard to case. */
export function keyed(record: Record<string, unknown>): (key: string) => unknown {
  const lower = new Map<string, unknown>();
  for (const [k, v] of Object.entries(record)) {
    if (!lower.has(k.toLowerCase())) lower.set(k.toLowerCase(), v);
  }
  return (key) => lower.get(key.toLowerCase());
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
