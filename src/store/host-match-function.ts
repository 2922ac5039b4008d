import type SQLite from 'better-sqlite3';
import {
  meetsRequirement,
  parseHostCapabilities,
  parseHostRequirement,
  type HostCapabilities,
  type HostRequirement,
} from '../domain/host-capabilities.js';

/*
 * SQLite: `drover_host_match(req, caps, cpus, mem, gpus, disk)`, the claim's test of a job's
 * host requirement against a node (migration 0045), as a user function over the one matching
 * rule in domain/host-capabilities.ts; PostgreSQL has the same in SQL (0045-claim.ts).
 * Deterministic, so SQLite may evaluate it once per distinct arguments. Only a job with a
 * requirement calls it (`j.req_host is null or ...`); the parsed JSON of the few distinct
 * requirements and nodes is kept, so a walk does not parse the same text per row.
 */

const MAX_CACHED = 512;

function cached<T>(cache: Map<string, T>, text: string, parse: (t: string) => T): T {
  let value = cache.get(text);
  if (value === undefined) {
    if (cache.size >= MAX_CACHED) cache.clear();
    value = parse(text);
    cache.set(text, value);
  }
  return value;
}

export function registerHostMatch(db: SQLite.Database): void {
  const requirements = new Map<string, HostRequirement | null>();
  const capabilities = new Map<string, HostCapabilities | null>();
  db.function(
    'drover_host_match',
    { deterministic: true },
    (req: unknown, caps: unknown, cpus: unknown, mem: unknown, gpus: unknown, disk: unknown) => {
      if (typeof req !== 'string') return 1;
      const r = cached(requirements, req, parseHostRequirement);
      const c = typeof caps === 'string' ? cached(capabilities, caps, parseHostCapabilities) : null;
      const node = { cpus: Number(cpus), mem: Number(mem), gpus: Number(gpus), disk: Number(disk) };
      return r === null || meetsRequirement(r, c, node) ? 1 : 0;
    },
  );
}
