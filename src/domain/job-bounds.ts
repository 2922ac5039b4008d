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

/** The longest project name (a weighted pool's share may name it: engine/pools/pools.ts). */
export const MAX_PROJECT = 200;

/** A job's project: free text up to MAX_PROJECT characters, no control characters. */
export function checkProject(project: unknown): void {
  if (project === undefined) return;
  if (typeof project !== 'string' || project.length > MAX_PROJECT || /\p{Cc}/u.test(project)) {
    throw invalid(
      `project must be text of at most ${MAX_PROJECT} characters, without control characters`,
      {
        field: 'project',
      },
    );
  }
}

/** Bounds of a frame offset: a frame waits at most this many frames away. */
export const MAX_FRAME_OFFSET = 100_000;
/** Longest target duration of an adaptive chunk: a day. */
export const MAX_TARGET_TASK_SECONDS = 86_400;

/** Frame offsets (Deadline's) and an adaptive chunk target of a submission, checked. */
export function checkAdaptiveAndOffsets(spec: {
  frameOffsetStart?: number | undefined;
  frameOffsetEnd?: number | undefined;
  targetTaskSeconds?: number | undefined;
  frameDependent?: boolean | undefined;
  frameDependencies?: readonly number[] | undefined;
}): void {
  const { frameOffsetStart: start = 0, frameOffsetEnd: end = 0, targetTaskSeconds = 0 } = spec;
  for (const [field, v] of [
    ['frameOffsetStart', start],
    ['frameOffsetEnd', end],
  ] as const) {
    if (!Number.isSafeInteger(v) || Math.abs(v) > MAX_FRAME_OFFSET) {
      throw invalid(
        `${field} must be an integer from -${MAX_FRAME_OFFSET} to ${MAX_FRAME_OFFSET}`,
        {
          field,
        },
      );
    }
  }
  if (start > end) {
    throw invalid(`frameOffsetStart (${start}) must not be above frameOffsetEnd (${end})`, {
      field: 'frameOffsetStart',
    });
  }
  if ((start !== 0 || end !== 0) && !spec.frameDependent && spec.frameDependencies === undefined) {
    throw invalid('frame offsets apply to frame-by-frame dependencies: give frameDependent too', {
      field: 'frameOffsetStart',
    });
  }
  if (
    !Number.isSafeInteger(targetTaskSeconds) ||
    targetTaskSeconds < 0 ||
    targetTaskSeconds > MAX_TARGET_TASK_SECONDS
  ) {
    throw invalid(`targetTaskSeconds must be an integer from 0 to ${MAX_TARGET_TASK_SECONDS}`, {
      field: 'targetTaskSeconds',
    });
  }
}
