import {
  at,
  checkIdentifier,
  checkList,
  checkString,
  isRecord,
  onlyKeys,
  type Problems,
} from './template-problems.js';

/*
 * Job parameter definitions (2023-09 §2.1-2.4: STRING, PATH, INT, FLOAT) and the values a
 * submission gives them. A value is checked against the definition's constraints, and kept
 * as the string a format string puts in its place.
 */

export type JobParameterType = 'STRING' | 'PATH' | 'INT' | 'FLOAT';

export interface JobParameterDefinition {
  name: string;
  type: JobParameterType;
  default?: string;
  allowedValues?: string[];
  minLength?: number;
  maxLength?: number;
  minValue?: number;
  maxValue?: number;
}

/** Job parameters a template may define (§1.1, without FEATURE_BUNDLE_1). */
export const MAX_JOB_PARAMETERS = 50;
/** `<JobParameterStringValue>` (§2.5). */
export const MAX_PARAMETER_VALUE_LENGTH = 1024;
export const MAX_IDENTIFIER_LENGTH = 64;

const COMMON = ['name', 'type', 'description', 'default', 'allowedValues', 'userInterface'];
const KEYS: Record<JobParameterType, string[]> = {
  STRING: [...COMMON, 'minLength', 'maxLength'],
  PATH: [...COMMON, 'minLength', 'maxLength', 'objectType', 'dataFlow'],
  INT: [...COMMON, 'minValue', 'maxValue'],
  FLOAT: [...COMMON, 'minValue', 'maxValue'],
};
const CONTROLS: Record<JobParameterType, string[]> = {
  STRING: ['LINE_EDIT', 'MULTILINE_EDIT', 'DROPDOWN_LIST', 'CHECK_BOX', 'HIDDEN'],
  PATH: ['CHOOSE_INPUT_FILE', 'CHOOSE_OUTPUT_FILE', 'CHOOSE_DIRECTORY', 'DROPDOWN_LIST', 'HIDDEN'],
  INT: ['SPIN_BOX', 'DROPDOWN_LIST', 'HIDDEN'],
  FLOAT: ['SPIN_BOX', 'DROPDOWN_LIST', 'HIDDEN'],
};
const NEEDS_ALLOWED = new Set(['DROPDOWN_LIST', 'CHECK_BOX']);
const NOT_WITH_ALLOWED = new Set(['LINE_EDIT', 'MULTILINE_EDIT', 'SPIN_BOX']);

const INT_TEXT = /^[+-]?\d+$/;
const FLOAT_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** An INT or FLOAT value as a number: a number, or a string holding one in base 10. */
export function numberOf(type: 'INT' | 'FLOAT', value: unknown): number | undefined {
  let n: number | undefined;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string') {
    const t = value.trim();
    if ((type === 'INT' ? INT_TEXT : FLOAT_TEXT).test(t)) n = Number(t);
  }
  if (n === undefined || !Number.isFinite(n)) return undefined;
  if (type === 'INT' && !Number.isSafeInteger(n)) return undefined;
  return n;
}

/** Checks a value against a definition; answers why it is refused, or its string. */
export function checkValue(
  def: JobParameterDefinition,
  value: unknown,
): { value: string } | { error: string } {
  if (def.type === 'INT' || def.type === 'FLOAT') {
    const n = numberOf(def.type, value);
    if (n === undefined) {
      return { error: `must be ${def.type === 'INT' ? 'an integer' : 'a number'}` };
    }
    if (def.minValue !== undefined && n < def.minValue) {
      return { error: `${n} is below minValue ${def.minValue}` };
    }
    if (def.maxValue !== undefined && n > def.maxValue) {
      return { error: `${n} is above maxValue ${def.maxValue}` };
    }
    if (def.allowedValues && !def.allowedValues.some((a) => Number(a) === n)) {
      return { error: `${n} is not one of allowedValues ${def.allowedValues.join(', ')}` };
    }
    return { value: String(n) };
  }
  if (typeof value !== 'string') return { error: 'must be a string' };
  const length = [...value].length;
  if (length > MAX_PARAMETER_VALUE_LENGTH) {
    return { error: `must be at most ${MAX_PARAMETER_VALUE_LENGTH} characters long` };
  }
  if (def.minLength !== undefined && length < def.minLength) {
    return { error: `is shorter than minLength ${def.minLength}` };
  }
  if (def.maxLength !== undefined && length > def.maxLength) {
    return { error: `is longer than maxLength ${def.maxLength}` };
  }
  if (def.allowedValues && !def.allowedValues.includes(value)) {
    return {
      error: `"${value}" is not one of allowedValues ${def.allowedValues.map((a) => `"${a}"`).join(', ')}`,
    };
  }
  return { value };
}

function bound(
  problems: Problems,
  path: string,
  value: unknown,
  type: JobParameterType,
): number | undefined {
  if (value === undefined) return undefined;
  if (type === 'STRING' || type === 'PATH') {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
      problems.add(path, 'must be a non-negative integer');
      return undefined;
    }
    return value;
  }
  const n = numberOf(type, value);
  if (n === undefined) problems.add(path, `must be ${type === 'INT' ? 'an integer' : 'a number'}`);
  return n;
}

/** Checks one `<JobParameterDefinition>`; answers it when it is sound. */
export function checkParameterDefinition(
  problems: Problems,
  path: string,
  raw: unknown,
): JobParameterDefinition | undefined {
  if (!isRecord(raw)) {
    problems.add(path, 'must be an object');
    return undefined;
  }
  const before = problems.list.length;
  const name = checkIdentifier(problems, at(path, 'name'), raw.name, MAX_IDENTIFIER_LENGTH);
  const type = raw.type as JobParameterType;
  if (!(type in KEYS)) {
    problems.add(
      at(path, 'type'),
      `must be one of STRING, PATH, INT, FLOAT; got ${JSON.stringify(raw.type)}`,
    );
    return undefined;
  }
  onlyKeys(problems, path, raw, KEYS[type]);
  if (raw.description !== undefined) {
    checkString(problems, at(path, 'description'), raw.description, {
      min: 1,
      max: 2048,
      noControlButWhitespace: true,
    });
  }
  const def: JobParameterDefinition = { name: name ?? '', type };
  const minKey = type === 'INT' || type === 'FLOAT' ? 'minValue' : 'minLength';
  const maxKey = type === 'INT' || type === 'FLOAT' ? 'maxValue' : 'maxLength';
  const min = bound(problems, at(path, minKey), raw[minKey], type);
  const max = bound(problems, at(path, maxKey), raw[maxKey], type);
  if (maxKey === 'maxLength' && max === 0) problems.add(at(path, maxKey), 'must be at least 1');
  if (min !== undefined && max !== undefined && min > max) {
    problems.add(at(path, minKey), `must not be greater than ${maxKey} (${min} > ${max})`);
  }
  if (min !== undefined) def[minKey] = min;
  if (max !== undefined) def[maxKey] = max;
  if (type === 'PATH') {
    if (raw.objectType !== undefined && !['FILE', 'DIRECTORY'].includes(raw.objectType as string)) {
      problems.add(at(path, 'objectType'), 'must be FILE or DIRECTORY');
    }
    if (
      raw.dataFlow !== undefined &&
      !['NONE', 'IN', 'OUT', 'INOUT'].includes(raw.dataFlow as string)
    ) {
      problems.add(at(path, 'dataFlow'), 'must be NONE, IN, OUT or INOUT');
    }
  }
  if (raw.allowedValues !== undefined) {
    const list = checkList(problems, at(path, 'allowedValues'), raw.allowedValues, 1, 1024);
    const allowed: string[] = [];
    list.forEach((v, i) => {
      const checked = checkValue(def, v);
      if ('error' in checked) problems.add(at(at(path, 'allowedValues'), i), checked.error);
      else allowed.push(checked.value);
    });
    def.allowedValues = allowed;
  }
  if (raw.default !== undefined) {
    const checked = checkValue(def, raw.default);
    if ('error' in checked) problems.add(at(path, 'default'), checked.error);
    else def.default = checked.value;
  }
  checkUserInterface(problems, at(path, 'userInterface'), raw.userInterface, def);
  return problems.list.length === before ? def : undefined;
}

function checkUserInterface(
  problems: Problems,
  path: string,
  ui: unknown,
  def: JobParameterDefinition,
): void {
  if (ui === undefined) return;
  if (!isRecord(ui)) {
    problems.add(path, 'must be an object');
    return;
  }
  for (const key of ['label', 'groupLabel']) {
    if (ui[key] !== undefined) {
      checkString(problems, at(path, key), ui[key], { min: 1, max: 64, noControl: true });
    }
  }
  if (ui.control === undefined) return;
  const control = ui.control as string;
  if (!CONTROLS[def.type].includes(control)) {
    problems.add(
      at(path, 'control'),
      `must be one of ${CONTROLS[def.type].join(', ')} for a ${def.type} parameter`,
    );
  } else if (NEEDS_ALLOWED.has(control) && !def.allowedValues) {
    problems.add(at(path, 'control'), `${control} needs allowedValues`);
  } else if (NOT_WITH_ALLOWED.has(control) && def.allowedValues) {
    problems.add(at(path, 'control'), `${control} cannot be used with allowedValues`);
  }
}

/**
 * The value of each job parameter for one submission: given, else the default. Refuses a
 * value for a parameter the template does not define, and a parameter left without one.
 */
export function jobParameterValues(
  problems: Problems,
  definitions: readonly JobParameterDefinition[],
  given: Record<string, unknown>,
): Map<string, string> {
  const byName = new Map(definitions.map((d) => [d.name, d]));
  for (const name of Object.keys(given)) {
    if (!byName.has(name)) {
      problems.add(`parameters.${name}`, 'the template defines no job parameter of this name');
    }
  }
  const values = new Map<string, string>();
  for (const def of definitions) {
    const value = Object.hasOwn(given, def.name) ? given[def.name] : def.default;
    if (value === undefined) {
      problems.add(`parameters.${def.name}`, 'needs a value: the parameter has no default');
      continue;
    }
    const checked = checkValue(def, value);
    if ('error' in checked) problems.add(`parameters.${def.name}`, checked.error);
    else values.set(def.name, checked.value);
  }
  return values;
}
