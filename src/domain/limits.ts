import { invalid } from './errors.js';

/*
 * Limit names and bounds (docs/scheduling.md). Names are matched in lower case, as
 * Deadline forces its pool and limit names to lower case, so `Nuke` from a Deadline
 * submission finds the limit `nuke`.
 */

export const LIMIT_PER = ['TASK', 'MACHINE'] as const;
export type LimitPer = (typeof LIMIT_PER)[number];

export const LIMIT_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$';
const NAME = new RegExp(LIMIT_NAME_PATTERN);
export const MAX_LIMITS_PER_JOB = 32;
export const MAX_LIMIT_COUNT = 1_000_000;
export const MAX_LIMIT_NODES = 1000;
export const MAX_NODE_NAME_LENGTH = 200;
export const MAX_LIMIT_DESCRIPTION = 1000;

/** One limit name checked and in lower case. */
export function limitName(name: string, field = 'name'): string {
  if (!NAME.test(name)) {
    throw invalid(
      `limit name "${name.slice(0, 80)}" must be 1 to 64 letters, digits, "_", "." or "-", starting with a letter or digit`,
      { field },
    );
  }
  return name.toLowerCase();
}

/** A job's limit names, checked, in lower case, each once. */
export function limitNames(names: readonly string[], field = 'limits'): string[] {
  const unique = [...new Set(names.map((n) => limitName(n.trim(), field)))];
  if (unique.length > MAX_LIMITS_PER_JOB) {
    throw invalid(`a job names at most ${MAX_LIMITS_PER_JOB} limits, got ${unique.length}`, {
      field,
    });
  }
  return unique;
}
