import { invalid } from './errors.js';

/*
 * The ranges a job's numbers may take, on every face. They are what the columns and the
 * worker can hold: PostgreSQL's `integer` is 32 bits (a priority of 3e9 was a 500 there and
 * silently stored on SQLite), and a worker's timer fires at once past 2^31 - 1 ms (24.8
 * days). The native schemas state them (OpenAPI) and the engine checks them for the faces
 * whose schemas cannot (Deadline's text bodies, Scale's and UFDL's own shapes).
 */

export const INT32_MIN = -2_147_483_648;
export const INT32_MAX = 2_147_483_647;
/** Ids are bigint in PostgreSQL; a JavaScript number is exact only up to 2^53 - 1. */
export const MAX_ID = Number.MAX_SAFE_INTEGER;

export interface Bound {
  minimum: number;
  maximum: number;
}

export const JOB_BOUNDS = {
  // Scale's priorities mirror around 150 (priority.ts), so both stay 32-bit.
  priority: { minimum: -1_000_000_000, maximum: 1_000_000_000 },
  machineLimit: { minimum: 0, maximum: 1_000_000 },
  // 23 days: under the 24.8 days a worker's timer can count.
  taskTimeout: { minimum: 0, maximum: 2_000_000 },
  jobTimeout: { minimum: 0, maximum: 2_000_000 },
  maxTries: { minimum: 1, maximum: 1000 },
  chunkSize: { minimum: 1, maximum: 1_000_000 },
  // Failures of a job on one node that block the node from it; 0: never.
  badNodeFailures: { minimum: 0, maximum: 1000 },
} as const satisfies Record<string, Bound>;

/**
 * A machine limit's release percentage (Deadline's "release at task progress"): -1 for never,
 * or 0 to 100.
 */
export function checkMachineLimitRelease(value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !(value === -1 || (value >= 0 && value <= 100))) {
    throw invalid(
      `machineLimitRelease must be -1 (never) or a percentage from 0 to 100, got ${String(value)}`,
      { field: 'machineLimitRelease' },
    );
  }
}

/** Flamenco's default: a node that fails a job 3 times stops taking it. */
export const DEFAULT_BAD_NODE_FAILURES = 3;

/** Jobs one job may wait on: each is a bound variable of one query (SQLite allows 32,766). */
export const MAX_DEPENDENCIES = 10_000;

export type BoundedJobField = keyof typeof JOB_BOUNDS;

/** Refuses any of the job's numbers that is not a whole number in its range (400). */
export function checkJobNumbers(fields: Partial<Record<BoundedJobField, unknown>>): void {
  for (const [field, bound] of Object.entries(JOB_BOUNDS) as [BoundedJobField, Bound][]) {
    const value = fields[field];
    if (value === undefined || value === null) continue;
    if (
      typeof value !== 'number' ||
      !Number.isInteger(value) ||
      value < bound.minimum ||
      value > bound.maximum
    ) {
      throw invalid(
        `${field} must be a whole number from ${bound.minimum} to ${bound.maximum}, got ${String(value)}`,
        { field },
      );
    }
  }
}
