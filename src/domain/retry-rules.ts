import type { ErrorCategory } from './error-categories.js';
import { invalid } from './errors.js';
import { JOB_BOUNDS } from './job-bounds.js';

/*
 * Retry rules (docs/scheduling.md#retry-rules): a job type (or a job, replacing its type's)
 * says, by the failure's exit code and error category, whether a failed task is tried again,
 * on any node, the same one or another one, and how many tries such failures allow. The
 * first rule that matches decides; a failure no rule matches follows the error's own
 * `shouldBeRetried` and the job's maxTries.
 */

export const ERROR_CATEGORIES: readonly ErrorCategory[] = ['SYSTEM', 'DATA', 'ALGORITHM'];
export const MAX_RETRY_RULES = 32;
export const MAX_RULE_EXIT_CODES = 64;
export const RETRY_NODES = ['ANY', 'SAME', 'OTHER'] as const;
export type RetryNode = (typeof RETRY_NODES)[number];
/** SAME without sameNodeTries: the failed try and one retry on the node, then any node. */
export const DEFAULT_SAME_NODE_TRIES = 2;

export interface RetryRule {
  /** Matches a failure with one of these exit codes; absent: any (or none). */
  exitCodes?: number[];
  /** Matches a failure whose error is of one of these categories; absent: any. */
  categories?: ErrorCategory[];
  retry: boolean;
  /**
   * ANY (default): whichever node claims it next. SAME: only the node that failed it, while
   * that node could take the job and for `sameNodeTries` tries there. OTHER: any node but
   * the one that failed it, unless no other could take the job (migration 0039).
   */
  node?: RetryNode;
  /** SAME: the most tries the task has on that node before its retries go to any node. */
  sameNodeTries?: number;
  /** Tries in all that such failures allow (at most the job's maxTries); absent: the job's. */
  maxTries?: number;
}

export interface FailureFacts {
  exitCode: number | null;
  category: ErrorCategory;
}

export function matchingRule(
  rules: readonly RetryRule[] | undefined,
  failure: FailureFacts,
): RetryRule | undefined {
  return rules?.find(
    (r) =>
      (r.exitCodes === undefined ||
        (failure.exitCode !== null && r.exitCodes.includes(failure.exitCode))) &&
      (r.categories === undefined || r.categories.includes(failure.category)),
  );
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks a definition's `retryRules`, refusing what the engine could not apply. */
export function checkRetryRules(input: unknown): RetryRule[] {
  if (!Array.isArray(input) || input.length > MAX_RETRY_RULES) {
    throw invalid(`retryRules must be a list of at most ${MAX_RETRY_RULES} rules`, {
      field: 'retryRules',
    });
  }
  return input.map((raw, i) => {
    const at = `retryRules[${i}]`;
    if (!isRecord(raw)) throw invalid(`${at} must be an object`, { field: 'retryRules' });
    const known = ['exitCodes', 'categories', 'retry', 'node', 'sameNodeTries', 'maxTries'];
    const unknown = Object.keys(raw).find((k) => !known.includes(k));
    if (unknown) {
      throw invalid(`${at}: unknown field "${unknown}"; a rule has ${known.join(', ')}`, {
        field: 'retryRules',
      });
    }
    if (typeof raw.retry !== 'boolean') {
      throw invalid(`${at}: retry must be true or false`, { field: 'retryRules' });
    }
    const rule: RetryRule = { retry: raw.retry };
    if (raw.exitCodes !== undefined) {
      const codes = raw.exitCodes;
      if (
        !Array.isArray(codes) ||
        codes.length === 0 ||
        codes.length > MAX_RULE_EXIT_CODES ||
        !codes.every((c) => Number.isInteger(c) && c >= -(2 ** 31) && c < 2 ** 31)
      ) {
        throw invalid(`${at}: exitCodes must be 1 to ${MAX_RULE_EXIT_CODES} whole numbers`, {
          field: 'retryRules',
        });
      }
      rule.exitCodes = codes as number[];
    }
    if (raw.categories !== undefined) {
      const cats = raw.categories;
      if (
        !Array.isArray(cats) ||
        cats.length === 0 ||
        !cats.every((c) => ERROR_CATEGORIES.includes(c as ErrorCategory))
      ) {
        throw invalid(`${at}: categories must name some of ${ERROR_CATEGORIES.join(', ')}`, {
          field: 'retryRules',
        });
      }
      rule.categories = [...new Set(cats as ErrorCategory[])];
    }
    if (raw.node !== undefined) {
      if (!RETRY_NODES.includes(raw.node as RetryNode)) {
        throw invalid(`${at}: node must be one of ${RETRY_NODES.join(', ')}`, {
          field: 'retryRules',
        });
      }
      if (!raw.retry) {
        throw invalid(`${at}: node is only for a rule that retries`, { field: 'retryRules' });
      }
      rule.node = raw.node as RetryNode;
    }
    if (raw.sameNodeTries !== undefined) {
      const { maximum } = JOB_BOUNDS.maxTries;
      const n = raw.sameNodeTries;
      if (rule.node !== 'SAME') {
        throw invalid(`${at}: sameNodeTries is only for a rule with node SAME`, {
          field: 'retryRules',
        });
      }
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 2 || n > maximum) {
        throw invalid(
          `${at}: sameNodeTries must be a whole number from 2 to ${maximum} (tries on the node, the failed one included)`,
          { field: 'retryRules' },
        );
      }
      rule.sameNodeTries = n;
    }
    if (raw.maxTries !== undefined) {
      const { minimum, maximum } = JOB_BOUNDS.maxTries;
      const n = raw.maxTries;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < minimum || n > maximum) {
        throw invalid(`${at}: maxTries must be a whole number from ${minimum} to ${maximum}`, {
          field: 'retryRules',
        });
      }
      if (!raw.retry) {
        throw invalid(`${at}: maxTries is only for a rule that retries`, { field: 'retryRules' });
      }
      rule.maxTries = n;
    }
    return rule;
  });
}
