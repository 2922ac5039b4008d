import {
  at,
  checkList,
  checkString,
  isRecord,
  onlyKeys,
  type Problems,
} from './template-problems.js';

/*
 * A step's host requirements (2023-09 §3.3), checked as written. What they become on the
 * step's job, and how nodes are matched against them, is step-requirements.ts
 * (docs/openjd.md#host-requirements).
 */

export interface AmountRequirement {
  name: string;
  min?: number;
  max?: number;
}

export interface AttributeRequirement {
  name: string;
  anyOf?: string[];
  allOf?: string[];
}

export interface HostRequirements {
  amounts: AmountRequirement[];
  attributes: AttributeRequirement[];
}

const ID = '[A-Za-z_][A-Za-z0-9_]*';
const AMOUNT = new RegExp(`^(${ID}:)?amount(\\.${ID})+$`);
const ATTRIBUTE = new RegExp(`^(${ID}:)?attr(\\.${ID})+$`);
const MAX_REQUIREMENTS = 50;

export function checkHostRequirements(
  problems: Problems,
  path: string,
  raw: unknown,
  checkRefs: (path: string, value: string) => void,
): HostRequirements | undefined {
  if (!isRecord(raw)) {
    problems.add(path, 'must be an object');
    return undefined;
  }
  onlyKeys(problems, path, raw, ['amounts', 'attributes']);
  if (raw.amounts === undefined && raw.attributes === undefined) {
    problems.add(path, 'needs amounts, attributes, or both');
  }
  const out: HostRequirements = { amounts: [], attributes: [] };
  const seen = new Set<string>();
  const name = (p: string, v: unknown, pattern: RegExp, kind: string): string | undefined => {
    const s = checkString(problems, p, v, { min: 1, max: 100 });
    if (s === undefined) return undefined;
    if (!pattern.test(s)) {
      problems.add(
        p,
        `"${s}" is not ${kind} capability name such as ${kind === 'an amount' ? 'amount.worker.vcpu' : 'attr.worker.os.family'}`,
      );
    }
    if (seen.has(s.toLowerCase())) problems.add(p, `"${s}" is required twice`);
    seen.add(s.toLowerCase());
    return s;
  };
  if (raw.amounts !== undefined) {
    checkList(problems, at(path, 'amounts'), raw.amounts, 1, MAX_REQUIREMENTS).forEach((a, i) => {
      const p = at(at(path, 'amounts'), i);
      if (!isRecord(a)) return problems.add(p, 'must be an object');
      onlyKeys(problems, p, a, ['name', 'min', 'max']);
      const n = name(at(p, 'name'), a.name, AMOUNT, 'an amount');
      const req: AmountRequirement = { name: n ?? '' };
      if (a.min === undefined && a.max === undefined) problems.add(p, 'needs min, max, or both');
      if (a.min !== undefined) {
        if (typeof a.min !== 'number' || !(a.min >= 0))
          problems.add(at(p, 'min'), 'must be a number of at least 0');
        else req.min = a.min;
      }
      if (a.max !== undefined) {
        if (typeof a.max !== 'number' || !(a.max > 0))
          problems.add(at(p, 'max'), 'must be a positive number');
        else req.max = a.max;
      }
      if (req.min !== undefined && req.max !== undefined && req.min > req.max) {
        problems.add(at(p, 'min'), 'must not be greater than max');
      }
      out.amounts.push(req);
    });
  }
  if (raw.attributes !== undefined) {
    checkList(problems, at(path, 'attributes'), raw.attributes, 1, MAX_REQUIREMENTS).forEach(
      (a, i) => {
        const p = at(at(path, 'attributes'), i);
        if (!isRecord(a)) return problems.add(p, 'must be an object');
        onlyKeys(problems, p, a, ['name', 'anyOf', 'allOf']);
        const req: AttributeRequirement = {
          name: name(at(p, 'name'), a.name, ATTRIBUTE, 'an attribute') ?? '',
        };
        if (a.anyOf === undefined && a.allOf === undefined)
          problems.add(p, 'needs anyOf, allOf, or both');
        for (const key of ['anyOf', 'allOf'] as const) {
          if (a[key] === undefined) continue;
          req[key] = checkList(problems, at(p, key), a[key], 1, 50).flatMap((v, k) => {
            const s = checkString(problems, at(at(p, key), k), v, { min: 1 });
            if (s !== undefined) checkRefs(at(at(p, key), k), s);
            return s === undefined ? [] : [s];
          });
        }
        out.attributes.push(req);
      },
    );
  }
  const total = out.amounts.length + out.attributes.length;
  if (total > MAX_REQUIREMENTS)
    problems.add(path, `at most ${MAX_REQUIREMENTS} requirements in all (has ${total})`);
  return out;
}
