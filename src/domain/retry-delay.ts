import { invalid } from './errors.js';

/*
 * How long a failed task waits before it may run again (docs/scheduling.md): not at all,
 * a fixed time, or a time that doubles with each try up to a maximum; jitter spreads the
 * retries of many tasks that failed together by up to ± that fraction of the delay.
 */

export const RETRY_DELAY_MODES = ['NONE', 'FIXED', 'EXPONENTIAL'] as const;
export type RetryDelayMode = (typeof RETRY_DELAY_MODES)[number];

export interface RetryDelay {
  mode: RetryDelayMode;
  /** FIXED: the delay; EXPONENTIAL: the first one, doubled at each later try. */
  seconds: number;
  /** EXPONENTIAL: the longest delay before jitter. */
  maxSeconds: number;
  /** 0 to 0.5: each delay is drawn from ± this fraction of it. */
  jitter: number;
}

export const NO_RETRY_DELAY: RetryDelay = { mode: 'NONE', seconds: 0, maxSeconds: 0, jitter: 0 };
/** A week: a retry past it is better done by hand. */
export const MAX_RETRY_DELAY_SECONDS = 604_800;
export const MAX_JITTER = 0.5;

/** A retry delay from a request or a stored row, checked; refused with the field named. */
export function checkRetryDelay(input: unknown, field = 'retryDelay'): RetryDelay {
  if (!isRecord(input)) throw invalid(`${field} must be an object`, { field });
  const extra = Object.keys(input).filter(
    (k) => !['mode', 'seconds', 'maxSeconds', 'jitter'].includes(k),
  );
  if (extra.length > 0) throw invalid(`${field} has unknown field ${extra[0]}`, { field });
  const mode = input.mode;
  if (typeof mode !== 'string' || !(RETRY_DELAY_MODES as readonly string[]).includes(mode)) {
    throw invalid(`${field}.mode must be one of ${RETRY_DELAY_MODES.join(', ')}`, { field });
  }
  const number = (key: string, fallback: number, max: number): number => {
    const value = input[key] ?? fallback;
    if (typeof value !== 'number' || !(value >= 0) || value > max) {
      throw invalid(`${field}.${key} must be a number from 0 to ${max}`, { field });
    }
    return value;
  };
  if (mode === 'NONE') return NO_RETRY_DELAY;
  const seconds = number('seconds', 0, MAX_RETRY_DELAY_SECONDS);
  const maxSeconds =
    mode === 'EXPONENTIAL'
      ? number('maxSeconds', MAX_RETRY_DELAY_SECONDS, MAX_RETRY_DELAY_SECONDS)
      : seconds;
  if (maxSeconds < seconds) {
    throw invalid(`${field}.maxSeconds must be at least seconds`, { field });
  }
  return {
    mode: mode as RetryDelayMode,
    seconds,
    maxSeconds,
    jitter: number('jitter', 0, MAX_JITTER),
  };
}

/** A requested retry delay as a job stores it (null: none); undefined asks for none. */
export function retryDelayJson(input: unknown): string | null {
  if (input === undefined || input === null) return null;
  const delay = checkRetryDelay(input);
  return delay.mode === 'NONE' ? null : JSON.stringify(delay);
}

/** A job's stored retry delay (its retry_delay_json column); null is none. */
export function storedRetryDelay(json: string | null): RetryDelay {
  return json === null ? NO_RETRY_DELAY : (JSON.parse(json) as RetryDelay);
}

/** The delay before the task's next try, `tries` tries spent (1 after its first failure). */
export function retryDelayMs(delay: RetryDelay, tries: number, random = Math.random): number {
  if (delay.mode === 'NONE') return 0;
  const base =
    delay.mode === 'FIXED'
      ? delay.seconds
      : Math.min(delay.maxSeconds, delay.seconds * 2 ** Math.max(0, tries - 1));
  return Math.round(base * 1000 * (1 + delay.jitter * (2 * random() - 1)));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
