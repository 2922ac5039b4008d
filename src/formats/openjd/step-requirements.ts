import { invalid } from '../../domain/errors.js';
import { STANDARD_ATTRIBUTES, type HostRequirement } from '../../domain/host-capabilities.js';
import type { Resources } from '../../domain/job-type-definition.js';
import { limitName } from '../../domain/limits.js';
import { FormatStringError, resolveFormatString } from './format-strings.js';
import { checkHostRequirements, type HostRequirements } from './host-requirements.js';
import { at, Problems } from './template-problems.js';

/*
 * What a step's host requirements (checked by host-requirements.ts) become on its job:
 * - `amount.worker.vcpu|memory|gpu|disk.scratch` with a min: the job's resource request,
 *   which dispatch and capacity already count;
 * - any other `amount.NAME`: the limit NAME (docs/scheduling.md), as Deadline Cloud reads a
 *   limit's amount requirement name;
 * - everything else (attributes, max bounds, other `amount.worker.*` amounts): the job's
 *   normalized host requirement (jobs.req_host), which the claim matches against what the
 *   node reported (domain/host-capabilities.ts). A job without any keeps req_host null.
 */

export interface StepRequirements {
  resources: Partial<Resources>;
  limits: string[];
  host: HostRequirement | null;
}

const RESOURCE_KEYS: Record<string, { key: keyof Resources; scale: number }> = {
  'amount.worker.vcpu': { key: 'cpus', scale: 1 },
  'amount.worker.memory': { key: 'mem', scale: 1 },
  'amount.worker.gpu': { key: 'gpus', scale: 1 },
  'amount.worker.disk.scratch': { key: 'disk', scale: 1024 },
};

/**
 * `asResources`: OpenJD steps turn the four resource amounts' mins into the job's resource
 * request; a native job, which has `resources` of its own, matches them as requirements
 * only, and takes limits by `limits`, not by amounts.
 */
export function stepRequirements(
  problems: Problems,
  path: string,
  req: HostRequirements | undefined,
  symbols: ReadonlyMap<string, string>,
  asResources = true,
): StepRequirements {
  const out: StepRequirements = { resources: {}, limits: [], host: null };
  if (!req) return out;
  const host: HostRequirement = { attributes: [], amounts: [] };
  req.amounts.forEach((a, i) => {
    const p = at(at(path, 'amounts'), i);
    const name = a.name.toLowerCase();
    if (!name.startsWith('amount.worker.')) {
      const limit = a.name.slice('amount.'.length);
      if (!asResources) {
        problems.add(at(p, 'name'), `takes the limit ${limit}: name it in limits instead`);
      } else if (a.max !== undefined || (a.min !== undefined && a.min !== 1)) {
        problems.add(
          at(p, a.max !== undefined ? 'max' : 'min'),
          `a task takes one of the limit ${limit} while it runs: give min 1 or no bounds`,
        );
      } else {
        try {
          out.limits.push(limitName(limit));
        } catch (error) {
          problems.add(at(p, 'name'), (error as Error).message);
        }
      }
      return;
    }
    const resource = RESOURCE_KEYS[name];
    if (resource && asResources && a.min !== undefined) {
      out.resources[resource.key] = a.min * resource.scale;
      if (a.max === undefined) return;
    }
    host.amounts.push({
      name,
      ...(a.min !== undefined && !(resource && asResources) ? { min: a.min } : {}),
      ...(a.max !== undefined ? { max: a.max } : {}),
    });
  });
  req.attributes.forEach((a, i) => {
    const p = at(at(path, 'attributes'), i);
    const name = a.name.toLowerCase();
    const allowed = STANDARD_ATTRIBUTES[name];
    const resolved: { name: string; anyOf?: string[]; allOf?: string[] } = { name };
    for (const key of ['anyOf', 'allOf'] as const) {
      const values = a[key];
      if (!values) continue;
      resolved[key] = values.map((v, k) => {
        let value = v;
        try {
          value = resolveFormatString(v, symbols).toLowerCase();
        } catch (error) {
          if (!(error instanceof FormatStringError)) throw error;
          problems.add(at(at(p, key), k), error.message);
        }
        if (allowed && !allowed.includes(value)) {
          problems.add(at(at(p, key), k), `"${value}" is not one of ${allowed.join(', ')}`);
        }
        return value;
      });
    }
    // anyOf and allOf together: both must hold, as two requirements of the same name.
    if (resolved.anyOf) host.attributes.push({ name, anyOf: resolved.anyOf });
    if (resolved.allOf) host.attributes.push({ name, allOf: resolved.allOf });
  });
  if (host.attributes.length > 0 || host.amounts.length > 0) out.host = host;
  return out;
}

/**
 * A native job's `hostRequirements` (OpenJD's own shape), checked and normalized; a 400
 * lists every problem with its path (hostRequirements.attributes[0].anyOf[1]).
 */
export function nativeHostRequirement(raw: unknown): HostRequirement | null {
  if (raw === undefined || raw === null) return null;
  const problems = new Problems();
  const checked = checkHostRequirements(problems, 'hostRequirements', raw, (p, v) => {
    if (v.includes('{{')) problems.add(p, 'a native job takes values, not format strings');
  });
  const { host } = problems.list.length
    ? { host: null }
    : stepRequirements(problems, 'hostRequirements', checked, new Map(), false);
  if (problems.list.length > 0) {
    const lines = problems.list.map((p) => `${p.path}: ${p.message}`);
    throw invalid(`hostRequirements is not valid:\n${lines.join('\n')}`, {
      field: problems.list[0]!.path,
      problems: problems.list,
    });
  }
  return host;
}
