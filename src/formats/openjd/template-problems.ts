import { invalid } from '../../domain/errors.js';

/*
 * A template is checked whole, and every problem found is reported with the path in the
 * document where it stands (`steps[1].script.actions.onRun.command`) and the rule it
 * breaks, as `openjd check` lists them, so that an author fixes them in one pass.
 */

export interface Problem {
  path: string;
  message: string;
}

/** The most problems one answer lists; a garbage document would otherwise make thousands. */
export const MAX_PROBLEMS = 50;

export class Problems {
  readonly list: Problem[] = [];

  add(path: string, message: string): void {
    if (this.list.length < MAX_PROBLEMS) this.list.push({ path, message });
  }

  /** Throws a 400 naming every problem, when there are any. */
  throwIfAny(what: string): void {
    if (this.list.length === 0) return;
    const lines = this.list.map((p) => `${p.path || '(document)'}: ${p.message}`);
    throw invalid(
      `${what} is not valid (${this.list.length} problem${this.list.length === 1 ? '' : 's'}):\n${lines.join('\n')}`,
      { field: 'template', problems: this.list },
    );
  }
}

export const at = (path: string, key: string | number): string =>
  typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key;

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** Refuses keys the schema does not define (pydantic's `extra = forbid` in openjd-model). */
export function onlyKeys(
  problems: Problems,
  path: string,
  value: Record<string, unknown>,
  allowed: readonly string[],
): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      problems.add(at(path, key), `unknown field; allowed here: ${allowed.join(', ')}`);
    }
  }
}

// Any Unicode character except the Cc category (C0 and C1 controls).
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// eslint-disable-next-line no-control-regex
const CONTROL_BUT_WHITESPACE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;

export interface StringRule {
  min?: number;
  max?: number;
  /** Refuse control characters (Cc). */
  noControl?: boolean;
  /** Refuse control characters other than tab, newline and carriage return. */
  noControlButWhitespace?: boolean;
}

/** Checks a string field; answers it when it is a string at all. */
export function checkString(
  problems: Problems,
  path: string,
  value: unknown,
  rule: StringRule,
): string | undefined {
  if (typeof value !== 'string') {
    problems.add(path, `must be a string`);
    return undefined;
  }
  const length = [...value].length;
  if (rule.min !== undefined && length < rule.min) {
    problems.add(path, `must be at least ${rule.min} character${rule.min === 1 ? '' : 's'} long`);
  }
  if (rule.max !== undefined && length > rule.max) {
    problems.add(path, `must be at most ${rule.max} characters long (has ${length})`);
  }
  if (rule.noControl && CONTROL.test(value)) {
    problems.add(path, 'must not contain control characters');
  }
  if (rule.noControlButWhitespace && CONTROL_BUT_WHITESPACE.test(value)) {
    problems.add(path, 'must not contain control characters other than tab and newlines');
  }
  return value;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `<Identifier>` (§7.1): latin letters, digits and `_`, not starting with a digit. */
export function checkIdentifier(problems: Problems, path: string, value: unknown, max: number) {
  const s = checkString(problems, path, value, { min: 1, max });
  if (s !== undefined && s !== '' && !IDENTIFIER.test(s)) {
    problems.add(
      path,
      `"${s}" is not an identifier: use latin letters, digits and "_", starting with a letter or "_"`,
    );
  }
  return s;
}

/** A list field: answers its items when it is a list within the bounds. */
export function checkList(
  problems: Problems,
  path: string,
  value: unknown,
  min: number,
  max: number,
): unknown[] {
  if (!Array.isArray(value)) {
    problems.add(path, 'must be a list');
    return [];
  }
  if (value.length < min) {
    problems.add(path, `must have at least ${min} element${min === 1 ? '' : 's'}`);
  }
  if (value.length > max) {
    problems.add(path, `must have at most ${max} elements (has ${value.length})`);
    return value.slice(0, max);
  }
  return value;
}
