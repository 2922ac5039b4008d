import {
  associated,
  CombinationError,
  countPoints,
  expandPoints,
  namesOf,
  parseCombination,
  type Combination,
  type Point,
} from './combination.js';
import { FormatStringError, referencesOf, resolveFormatString } from './format-strings.js';
import { numberOf } from './job-parameters.js';
import {
  countRangeExpr,
  formatRangeExpr,
  parseRangeExpr,
  RangeExprError,
} from './range-expressions.js';
import {
  at,
  checkIdentifier,
  checkList,
  isRecord,
  onlyKeys,
  type Problems,
} from './template-problems.js';

/*
 * A step's parameter space (2023-09 §3.4): task parameters of type INT, FLOAT, STRING, PATH
 * and, with the TASK_CHUNKING extension, CHUNK[INT], combined by a combination expression
 * (the product of all of them when none is given). Checked with the template; expanded at
 * job creation, when the job parameters that ranges may name are known. Each point is one
 * task, with the string value of each task parameter; a CHUNK[INT] parameter's value is a
 * range expression of the chunk's values (`1-10`).
 */

export type TaskParameterType = 'INT' | 'FLOAT' | 'STRING' | 'PATH' | 'CHUNK[INT]';
const TYPES: readonly TaskParameterType[] = ['INT', 'FLOAT', 'STRING', 'PATH', 'CHUNK[INT]'];

export interface ChunkSpec {
  /** A format string resolving to an integer ≥ 1. */
  defaultTaskCount: string;
  targetRuntimeSeconds?: string;
  rangeConstraint: 'CONTIGUOUS' | 'NONCONTIGUOUS';
}

export interface TaskParameterDefinition {
  name: string;
  type: TaskParameterType;
  /** A range expression (INT, CHUNK[INT]) or a list of values; each may be a format string. */
  range: string | string[];
  chunks?: ChunkSpec;
}

export interface ParameterSpace {
  parameters: TaskParameterDefinition[];
  combination: Combination;
}

export const MAX_TASK_PARAMETERS = 16;
export const MAX_RANGE_LIST = 1024;
const MAX_TASK_VALUE_LENGTH = 1024;

/** Checks `parameterSpace`; `checkRefs` checks the format strings a range holds. */
export function checkParameterSpace(
  problems: Problems,
  path: string,
  raw: unknown,
  extensions: ReadonlySet<string>,
  checkRefs: (path: string, value: string) => void,
): ParameterSpace | undefined {
  if (!isRecord(raw)) {
    problems.add(path, 'must be an object');
    return undefined;
  }
  onlyKeys(problems, path, raw, ['taskParameterDefinitions', 'combination']);
  const listPath = at(path, 'taskParameterDefinitions');
  const items = checkList(problems, listPath, raw.taskParameterDefinitions, 1, MAX_TASK_PARAMETERS);
  const parameters: TaskParameterDefinition[] = [];
  const seen = new Set<string>();
  items.forEach((item, i) => {
    const def = checkTaskParameter(problems, at(listPath, i), item, extensions, checkRefs);
    if (!def) return;
    if (seen.has(def.name))
      problems.add(at(at(listPath, i), 'name'), `"${def.name}" is defined twice`);
    seen.add(def.name);
    parameters.push(def);
  });
  if (parameters.filter((p) => p.type === 'CHUNK[INT]').length > 1) {
    problems.add(listPath, 'at most one CHUNK[INT] parameter is allowed');
  }
  let combination: Combination = {
    kind: 'product',
    parts: parameters.map((p) => ({ kind: 'param', name: p.name })),
  };
  if (raw.combination !== undefined) {
    const cpath = at(path, 'combination');
    if (typeof raw.combination !== 'string') {
      problems.add(cpath, 'must be a string');
      return undefined;
    }
    try {
      combination = parseCombination(raw.combination);
    } catch (error) {
      if (!(error instanceof CombinationError)) throw error;
      problems.add(cpath, error.message);
      return undefined;
    }
    const names = namesOf(combination);
    for (const name of new Set(names)) {
      if (!seen.has(name)) problems.add(cpath, `"${name}" is not a task parameter of this step`);
      if (names.filter((n) => n === name).length > 1) {
        problems.add(
          cpath,
          `"${name}" occurs more than once; each task parameter occurs exactly once`,
        );
      }
    }
    for (const p of parameters) {
      if (!names.includes(p.name)) problems.add(cpath, `task parameter "${p.name}" is missing`);
    }
    for (const name of associated(combination)) {
      if (parameters.find((p) => p.name === name)?.type === 'CHUNK[INT]') {
        problems.add(cpath, `"${name}" is CHUNK[INT] and must not be in an association`);
      }
    }
  }
  const space = { parameters, combination };
  // Ranges without format strings are known now: an association of unequal lengths is
  // refused with the template, not at the first submission.
  if (parameters.every((p) => [p.range].flat().every((r) => referencesOf(safe(r)).length === 0))) {
    try {
      const sizes = parameters.map((p): [string, number] => [
        p.name,
        typeof p.range === 'string' ? countRangeExpr(p.range) : p.range.length,
      ]);
      countPoints(combination, new Map(sizes));
    } catch (error) {
      if (error instanceof CombinationError) problems.add(at(path, 'combination'), error.message);
      else if (!(error instanceof RangeExprError || error instanceof SpaceError)) throw error;
    }
  }
  return space;
}

const safe = (s: string): string => {
  try {
    referencesOf(s);
    return s;
  } catch {
    return '';
  }
};

function checkTaskParameter(
  problems: Problems,
  path: string,
  raw: unknown,
  extensions: ReadonlySet<string>,
  checkRefs: (path: string, value: string) => void,
): TaskParameterDefinition | undefined {
  if (!isRecord(raw)) {
    problems.add(path, 'must be an object');
    return undefined;
  }
  const name = checkIdentifier(problems, at(path, 'name'), raw.name, 64);
  const type = raw.type as TaskParameterType;
  if (!TYPES.includes(type) || (type === 'CHUNK[INT]' && !extensions.has('TASK_CHUNKING'))) {
    problems.add(
      at(path, 'type'),
      type === 'CHUNK[INT]'
        ? 'CHUNK[INT] needs the TASK_CHUNKING extension in the template\'s "extensions"'
        : `must be one of INT, FLOAT, STRING, PATH; got ${JSON.stringify(raw.type)}`,
    );
    return undefined;
  }
  onlyKeys(
    problems,
    path,
    raw,
    type === 'CHUNK[INT]' ? ['name', 'type', 'range', 'chunks'] : ['name', 'type', 'range'],
  );
  const rpath = at(path, 'range');
  let range: string | string[];
  const integral = type === 'INT' || type === 'CHUNK[INT]';
  if (typeof raw.range === 'string' && integral) {
    range = raw.range;
    checkRefs(rpath, range);
    if (referencesOf(safe(range)).length === 0) {
      try {
        countRangeExpr(range);
      } catch (error) {
        if (!(error instanceof RangeExprError)) throw error;
        problems.add(rpath, error.message);
      }
    }
  } else if (Array.isArray(raw.range)) {
    range = checkList(problems, rpath, raw.range, 1, MAX_RANGE_LIST).map((v, i) => {
      const s = typeof v === 'number' && type !== 'STRING' && type !== 'PATH' ? String(v) : v;
      if (typeof s !== 'string' || s.length === 0 || s.length > MAX_TASK_VALUE_LENGTH) {
        problems.add(
          at(rpath, i),
          `must be a ${type === 'STRING' || type === 'PATH' ? '' : 'number or '}string of 1 to ${MAX_TASK_VALUE_LENGTH} characters`,
        );
        return '';
      }
      checkRefs(at(rpath, i), s);
      if (type !== 'STRING' && type !== 'PATH' && referencesOf(safe(s)).length === 0) {
        if (numberOf(integral ? 'INT' : 'FLOAT', s) === undefined) {
          problems.add(at(rpath, i), `"${s}" is not ${integral ? 'an integer' : 'a number'}`);
        }
      }
      return s;
    });
  } else {
    problems.add(rpath, integral ? 'must be a range expression or a list' : 'must be a list');
    return undefined;
  }
  const def: TaskParameterDefinition = { name: name ?? '', type, range };
  if (type === 'CHUNK[INT]')
    def.chunks = checkChunks(problems, at(path, 'chunks'), raw.chunks, checkRefs);
  return def;
}

function checkChunks(
  problems: Problems,
  path: string,
  raw: unknown,
  checkRefs: (path: string, value: string) => void,
): ChunkSpec {
  const spec: ChunkSpec = { defaultTaskCount: '1', rangeConstraint: 'CONTIGUOUS' };
  if (!isRecord(raw)) {
    problems.add(path, 'must be an object with defaultTaskCount and rangeConstraint');
    return spec;
  }
  onlyKeys(problems, path, raw, ['defaultTaskCount', 'targetRuntimeSeconds', 'rangeConstraint']);
  for (const key of ['defaultTaskCount', 'targetRuntimeSeconds'] as const) {
    const v = raw[key];
    if (v === undefined && key === 'targetRuntimeSeconds') continue;
    const s = typeof v === 'number' ? String(v) : v;
    if (typeof s !== 'string') {
      problems.add(at(path, key), 'must be an integer or a string holding one');
      continue;
    }
    checkRefs(at(path, key), s);
    const min = key === 'defaultTaskCount' ? 1 : 0;
    if (referencesOf(safe(s)).length === 0 && !((numberOf('INT', s) ?? -1) >= min)) {
      problems.add(at(path, key), `must be an integer of at least ${min}`);
    }
    spec[key] = s;
  }
  if (raw.rangeConstraint !== 'CONTIGUOUS' && raw.rangeConstraint !== 'NONCONTIGUOUS') {
    problems.add(at(path, 'rangeConstraint'), 'must be CONTIGUOUS or NONCONTIGUOUS');
  } else spec.rangeConstraint = raw.rangeConstraint;
  return spec;
}

/** A parameter space that cannot be made with the values given. */
export class SpaceError extends Error {
  override name = 'SpaceError';
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

/** A parameter's values (resolved with the job parameters in `symbols`), chunked if asked. */
function valuesOf(
  p: TaskParameterDefinition,
  symbols: ReadonlyMap<string, string>,
  max: number,
): string[] {
  const resolve = (s: string) => {
    try {
      return resolveFormatString(s, symbols);
    } catch (error) {
      if (error instanceof FormatStringError) throw new SpaceError(p.name, error.message);
      throw error;
    }
  };
  const integral = p.type === 'INT' || p.type === 'CHUNK[INT]';
  let values: string[];
  if (typeof p.range === 'string') {
    try {
      // One parameter of more values than tasks may be made would make too many tasks.
      values = parseRangeExpr(resolve(p.range), max).map(String);
    } catch (error) {
      if (error instanceof RangeExprError) throw new SpaceError(p.name, error.message);
      throw error;
    }
  } else {
    values = p.range.map((r) => {
      const v = resolve(r);
      if (p.type === 'STRING' || p.type === 'PATH') return v;
      const n = numberOf(integral ? 'INT' : 'FLOAT', v);
      if (n === undefined)
        throw new SpaceError(p.name, `"${v}" is not ${integral ? 'an integer' : 'a number'}`);
      return String(n);
    });
  }
  if (p.type !== 'CHUNK[INT]' || !p.chunks) return values;
  const size = numberOf('INT', resolve(p.chunks.defaultTaskCount));
  if (size === undefined || size < 1) {
    throw new SpaceError(
      p.name,
      'chunks.defaultTaskCount must resolve to an integer of at least 1',
    );
  }
  return chunkValues(
    values.map(Number).sort((a, b) => a - b),
    size,
    p.chunks.rangeConstraint,
  );
}

/**
 * Fixed-size chunks of sorted integers, as range expressions. CONTIGUOUS chunks never span
 * a gap (`1-3,7-9` in chunks of 5 gives `1-3` and `7-9`) and are written `a-b`, `5-5` for
 * one value, as the specification shows them.
 */
export function chunkValues(
  sorted: readonly number[],
  size: number,
  constraint: ChunkSpec['rangeConstraint'],
): string[] {
  const out: string[] = [];
  if (constraint === 'NONCONTIGUOUS') {
    for (let i = 0; i < sorted.length; i += size)
      out.push(formatRangeExpr(sorted.slice(i, i + size)));
    return out;
  }
  let i = 0;
  while (i < sorted.length) {
    let j = i;
    while (j + 1 < sorted.length && j + 1 - i < size && sorted[j + 1] === sorted[j]! + 1) j++;
    out.push(`${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return out;
}

/** The tasks of a step: one point of its space each, `[{}]` for a step without a space. */
export function expandParameterSpace(
  space: ParameterSpace | undefined,
  symbols: ReadonlyMap<string, string>,
  maxTasks: number,
): Point[] {
  if (!space) return [{}];
  const values = new Map(space.parameters.map((p) => [p.name, valuesOf(p, symbols, maxTasks)]));
  let count: number;
  try {
    count = countPoints(space.combination, new Map([...values].map(([k, v]) => [k, v.length])));
  } catch (error) {
    if (error instanceof CombinationError) throw new SpaceError('combination', error.message);
    throw error;
  }
  if (count > maxTasks) {
    throw new SpaceError(
      'combination',
      `makes ${count} tasks; at most ${maxTasks} are allowed in one step`,
    );
  }
  return expandPoints(space.combination, values);
}
