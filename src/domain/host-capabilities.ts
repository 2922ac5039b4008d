import { invalid } from './errors.js';

/*
 * Host capabilities (OpenJD 2023-09 §3.3, "capabilities"): what a node reports about itself
 * (attributes: names with sets of string values; amounts: names with a number) and what a
 * job requires of it (per attribute anyOf/allOf, per amount min/max). Names are matched in
 * lower case (openjd-model lowers them before its checks), and so are attribute values, so
 * `Windows` finds `windows`. The four amounts a node already reports as resources
 * (vcpu, memory, gpu, disk.scratch) are read from them; any other amount from what the
 * node reported, 0 when it reported nothing. An attribute the node did not report never
 * matches.
 */

/** What a node reports, normalized: names and attribute values in lower case. */
export interface HostCapabilities {
  attributes: Record<string, string[]>;
  amounts: Record<string, number>;
}

/** What a job requires, normalized (the jobs.req_host column). */
export interface HostRequirement {
  attributes: { name: string; anyOf?: string[]; allOf?: string[] }[];
  amounts: { name: string; min?: number; max?: number }[];
}

/** The node's resources, which the standard amounts are read from (mem and disk in MiB). */
export interface NodeResources {
  cpus: number;
  mem: number;
  gpus: number;
  disk: number;
}

export const OS_FAMILY = 'attr.worker.os.family';
export const CPU_ARCH = 'attr.worker.cpu.arch';
export const GPU_MEMORY = 'amount.worker.gpu.memory';

/** The standard attributes and the values the specification allows for them. */
export const STANDARD_ATTRIBUTES: Record<string, readonly string[]> = {
  [OS_FAMILY]: ['windows', 'linux', 'macos'],
  [CPU_ARCH]: ['x86_64', 'arm64'],
};

/** Standard amounts read from the node's resources: OpenJD's unit from the node's. */
export const RESOURCE_AMOUNTS: Record<string, (r: NodeResources) => number> = {
  'amount.worker.vcpu': (r) => r.cpus,
  'amount.worker.memory': (r) => r.mem,
  'amount.worker.gpu': (r) => r.gpus,
  // OpenJD counts scratch disk in GiB, a node its disk in MiB.
  'amount.worker.disk.scratch': (r) => r.disk / 1024,
};

// The specification's grammar (openjd-model _capabilities.py), without its vendor prefix,
// which a requirement may carry but a node reports as any other name.
const PART = '[a-z_][a-z0-9_]*';
export const ATTRIBUTE_NAME = new RegExp(`^(${PART}:)?attr(\\.${PART})+$`);
export const AMOUNT_NAME = new RegExp(`^(${PART}:)?amount(\\.${PART})+$`);
export const MAX_CAPABILITIES = 64;
export const MAX_ATTRIBUTE_VALUES = 32;
export const MAX_VALUE_LENGTH = 100;
const MAX_NAME_LENGTH = 100;

/**
 * A node's reported capabilities, checked and normalized; throws VALIDATION naming the
 * field. `field` prefixes the paths (capabilities.attributes["attr.x"][0]).
 */
export function checkCapabilities(raw: unknown, field = 'capabilities'): HostCapabilities {
  const out: HostCapabilities = { attributes: {}, amounts: {} };
  if (raw === undefined || raw === null) return out;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw invalid(`${field} must be an object`);
  const { attributes = {}, amounts = {}, ...rest } = raw as Record<string, unknown>;
  const extra = Object.keys(rest)[0];
  if (extra !== undefined) throw invalid(`${field}.${extra} is not a field (attributes, amounts)`);
  const entries = (value: unknown, where: string): [string, unknown][] => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw invalid(`${where} must be an object of names`);
    }
    return Object.entries(value);
  };
  const name = (n: string, where: string, pattern: RegExp, example: string): string => {
    const lower = n.toLowerCase();
    if (n.length > MAX_NAME_LENGTH || !pattern.test(lower)) {
      throw invalid(`${where}: "${n.slice(0, 80)}" is not a capability name such as ${example}`);
    }
    return lower;
  };
  const attrs = entries(attributes, `${field}.attributes`);
  const nums = entries(amounts, `${field}.amounts`);
  if (attrs.length + nums.length > MAX_CAPABILITIES) {
    throw invalid(`${field}: at most ${MAX_CAPABILITIES} attributes and amounts in all`);
  }
  for (const [n, values] of attrs) {
    const where = `${field}.attributes["${n.slice(0, 80)}"]`;
    const key = name(n, where, ATTRIBUTE_NAME, 'attr.worker.os.family');
    const list = typeof values === 'string' ? [values] : values;
    if (!Array.isArray(list) || list.length === 0 || list.length > MAX_ATTRIBUTE_VALUES) {
      throw invalid(`${where} must be 1 to ${MAX_ATTRIBUTE_VALUES} string values`);
    }
    out.attributes[key] = [
      ...new Set(
        list.map((v, i) => {
          if (typeof v !== 'string' || v.length === 0 || v.length > MAX_VALUE_LENGTH) {
            throw invalid(`${where}[${i}] must be a string of 1 to ${MAX_VALUE_LENGTH} characters`);
          }
          return v.toLowerCase();
        }),
      ),
    ];
    const allowed = STANDARD_ATTRIBUTES[key];
    const wrong = allowed && out.attributes[key]!.find((v) => !allowed.includes(v));
    if (wrong) throw invalid(`${where}: "${wrong}" is not one of ${allowed.join(', ')}`);
  }
  for (const [n, value] of nums) {
    const where = `${field}.amounts["${n.slice(0, 80)}"]`;
    const key = name(n, where, AMOUNT_NAME, 'amount.worker.gpu.memory');
    if (RESOURCE_AMOUNTS[key]) {
      throw invalid(`${where}: the node reports ${key} as its cpus, mem, gpus or disk`);
    }
    if (!key.startsWith('amount.worker.')) {
      // A job's amount.NAME outside amount.worker. takes the limit NAME (docs/scheduling.md).
      throw invalid(`${where}: a node reports amounts named amount.worker.NAME`);
    }
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw invalid(`${where} must be a finite number >= 0`);
    }
    out.amounts[key] = value;
  }
  return out;
}

/** Why the node does not meet the requirement (the first reason), or undefined if it does. */
export function unmetRequirement(
  req: HostRequirement,
  caps: HostCapabilities | null,
  node: NodeResources,
): string | undefined {
  for (const a of req.attributes) {
    const has = caps?.attributes[a.name];
    if (!has) {
      const want = a.anyOf ? `in [${a.anyOf.join(', ')}]` : `with all of [${a.allOf!.join(', ')}]`;
      return `has no ${a.name} (wants one ${want})`;
    }
    if (a.anyOf && !a.anyOf.some((v) => has.includes(v)))
      return `has ${a.name} ${has.join(', ')}, not one in [${a.anyOf.join(', ')}]`;
    if (a.allOf && !a.allOf.every((v) => has.includes(v)))
      return `has ${a.name} ${has.join(', ')}, not all of [${a.allOf.join(', ')}]`;
  }
  for (const m of req.amounts) {
    const v = amountOf(m.name, caps, node);
    if (m.min !== undefined && v < m.min) return `has ${m.name} ${v}, below ${m.min}`;
    if (m.max !== undefined && v > m.max) return `has ${m.name} ${v}, above ${m.max}`;
  }
  return undefined;
}

export function meetsRequirement(
  req: HostRequirement,
  caps: HostCapabilities | null,
  node: NodeResources,
): boolean {
  return unmetRequirement(req, caps, node) === undefined;
}

/** The node's amount: a resource, or what it reported (0 when it reported nothing). */
export function amountOf(name: string, caps: HostCapabilities | null, node: NodeResources): number {
  const resource = RESOURCE_AMOUNTS[name];
  return resource ? resource(node) : (caps?.amounts[name] ?? 0);
}

/** How a requirement reads in a waiting reason: attr.worker.os.family in [windows]. */
export function describeRequirement(req: HostRequirement): string {
  return [
    ...req.attributes.map((a) =>
      a.anyOf ? `${a.name} in [${a.anyOf.join(', ')}]` : `${a.name} with [${a.allOf!.join(', ')}]`,
    ),
    ...req.amounts.map((m) =>
      m.min !== undefined && m.max !== undefined
        ? `${m.name} ${m.min} to ${m.max}`
        : m.min !== undefined
          ? `${m.name} >= ${m.min}`
          : `${m.name} <= ${m.max}`,
    ),
  ].join(', ');
}

/** Reads a stored column (JSON), null when absent. */
export function parseHostCapabilities(text: string | null | undefined): HostCapabilities | null {
  return text ? (JSON.parse(text) as HostCapabilities) : null;
}

export function parseHostRequirement(text: string | null | undefined): HostRequirement | null {
  return text ? (JSON.parse(text) as HostRequirement) : null;
}
