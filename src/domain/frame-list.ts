/**
 * Deadline frame-list syntax: parsing, chunking into tasks, and formatting.
 *
 * Grammar (tokens separated by any mix of commas and whitespace):
 *   N            single frame, may be negative: `5`, `-18`
 *   A-B  A:B     inclusive range, ascending or descending: `1-100`, `100:1`, `-22--30`
 *   A-BxS        stepped range; the step may also be written `stepS`, `byS`, `everyS`,
 *   A:B:S        or (colon ranges only) `:S`. S is a positive integer.
 *
 * The result keeps the written order (it defines task order) and drops later duplicates.
 */

export class FrameListError extends Error {
  override name = 'FrameListError';
}

export interface ParseFrameListOptions {
  /** Upper bound on the number of frames written (counted before de-duplication). */
  maxFrames?: number;
}

export interface FrameChunk {
  frames: number[];
  start: number;
  end: number;
  label: string;
}

export const DEFAULT_MAX_FRAMES = 1_000_000;

// Groups: 1 = first frame, 2 = range separator, 3 = last frame, 4 = step marker, 5 = step.
// The step is captured loosely so that `1-10x0` or `1-10xabc` get a step-specific message.
const TOKEN = /^(-?\d+)(?:([-:])(-?\d+)(?:(x|step|by|every|:)(.*))?)?$/i;
const SEPARATORS = /[\s,]+/;
const FORMS = 'N, A-B, A:B, A-BxS, A-BstepS, A-BbyS, A-BeveryS or A:B:S';

/**
 * One token of a frame list as an arithmetic run: `count` frames from `first`, `step` apart
 * (negative for a descending range). Runs are what a frame list costs to hold: `1-1000000`
 * is one run, not a million numbers.
 */
export interface FrameRun {
  first: number;
  step: number;
  count: number;
}

/**
 * The runs of a frame list as written (duplicates not removed) and how many frames they
 * write, checked against `maxFrames` before anything is expanded.
 */
export function parseFrameRuns(
  text: string,
  options: ParseFrameListOptions = {},
): { runs: FrameRun[]; written: number } {
  const maxFrames = options.maxFrames ?? DEFAULT_MAX_FRAMES;
  if (!Number.isSafeInteger(maxFrames) || maxFrames < 1) {
    throw new FrameListError(`maxFrames must be an integer >= 1, got ${String(maxFrames)}`);
  }
  const fail = (detail: string): never => {
    throw new FrameListError(`invalid frame list ${quote(text)}: ${detail}`);
  };

  const tokens = text.split(SEPARATORS).filter((t) => t !== '');
  if (tokens.length === 0) fail('no frames given');

  const runs: FrameRun[] = [];
  // Counted as written, not after de-duplication, so the work done is bounded by
  // maxFrames even for inputs like `1-1000000` repeated many times.
  let written = 0;

  for (const token of tokens) {
    const m = TOKEN.exec(token);
    if (!m) return fail(`unrecognised token ${quote(token)} (expected ${FORMS})`);
    const [, firstText = '', sep, lastText, marker, stepText] = m;
    if (marker === ':' && sep !== ':') {
      fail(`unrecognised token ${quote(token)} (a ":S" step needs a colon range, e.g. "1:100:5")`);
    }
    const first = toFrame(firstText, token, fail);
    const last = lastText === undefined ? first : toFrame(lastText, token, fail);
    let step = 1;
    if (marker !== undefined) {
      step = /^\d+$/.test(stepText ?? '') ? Number(stepText) : 0;
      if (!Number.isSafeInteger(step) || step < 1) {
        fail(`step must be a positive integer in ${quote(token)}`);
      }
    }

    // Sized arithmetically so `1-999999999999` is rejected before anything is allocated.
    const count = Math.floor(Math.abs(last - first) / step) + 1;
    written += count;
    if (written > maxFrames) {
      fail(`expands to more than the limit of ${maxFrames} frames at ${quote(token)}`);
    }
    runs.push({ first, step: last >= first ? step : -step, count });
  }
  return { runs, written };
}

export function parseFrameList(text: string, options: ParseFrameListOptions = {}): number[] {
  const seen = new Set<number>();
  const frames: number[] = [];
  for (const run of parseFrameRuns(text, options).runs) {
    for (let i = 0; i < run.count; i++) {
      const frame = run.first + i * run.step;
      if (!seen.has(frame)) {
        seen.add(frame);
        frames.push(frame);
      }
    }
  }
  return frames;
}

/** Frames are stored as 32-bit integers (PostgreSQL `integer`). */
export const FRAME_MIN = -2_147_483_648;
export const FRAME_MAX = 2_147_483_647;

function toFrame(digits: string, token: string, fail: (detail: string) => never): number {
  const n = Number(digits);
  if (!Number.isSafeInteger(n) || n < FRAME_MIN || n > FRAME_MAX) {
    fail(`frame ${digits} is out of range (${FRAME_MIN} to ${FRAME_MAX}) in ${quote(token)}`);
  }
  return n + 0; // `-0` would otherwise survive as a distinct value under Object.is
}

function quote(s: string): string {
  const max = 80;
  return JSON.stringify(s.length > max ? `${s.slice(0, max)}…` : s);
}

/** Splits frames into tasks of `chunkSize` consecutive entries; the last may be smaller. */
export function chunkFrames(frames: readonly number[], chunkSize: number): FrameChunk[] {
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) {
    throw new FrameListError(`chunk size must be an integer >= 1, got ${String(chunkSize)}`);
  }
  const chunks: FrameChunk[] = [];
  for (let i = 0; i < frames.length; i += chunkSize) {
    const chunk = frames.slice(i, i + chunkSize);
    // Non-empty by construction (i < frames.length).
    const start = chunk[0] as number;
    const end = chunk[chunk.length - 1] as number;
    chunks.push({ frames: chunk, start, end, label: formatFrames(chunk) });
  }
  return chunks;
}

/**
 * Deadline-style task label: each maximal ascending-by-1 run written `a-b`, single frames
 * as `a-a` (Deadline always shows `start-end`), runs joined with `,`.
 */
export function formatFrames(frames: readonly number[]): string {
  return runs(frames, false)
    .map(([a, b]) => `${a}-${b}`)
    .join(',');
}

/**
 * Compact frame list that `parseFrameList` turns back into exactly `frames`: ascending and
 * descending step-1 runs as `a-b`, lone frames as `a`. Returns "" for no frames (which
 * does not parse: callers decide what an empty list means). Duplicates and non-integers
 * cannot round-trip, so they are rejected.
 */
export function formatFrameList(frames: readonly number[]): string {
  const seen = new Set<number>();
  for (const f of frames) {
    if (!Number.isSafeInteger(f)) throw new FrameListError(`frame ${f} is not an integer`);
    if (seen.has(f)) throw new FrameListError(`frame ${f} appears more than once`);
    seen.add(f);
  }
  return runs(frames, true)
    .map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`))
    .join(',');
}

/** Greedy maximal runs of step +1 (and, if allowed, -1) as [first, last] pairs. */
function runs(frames: readonly number[], allowDescending: boolean): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let i = 0;
  while (i < frames.length) {
    const first = frames[i] as number;
    const next = frames[i + 1];
    const diff = next === undefined ? 0 : next - first;
    const step = diff === 1 || (allowDescending && diff === -1) ? diff : 0;
    let j = i;
    if (step !== 0) {
      while (j + 1 < frames.length && (frames[j + 1] as number) - (frames[j] as number) === step)
        j++;
    }
    out.push([first, frames[j] as number]);
    i = j + 1;
  }
  return out;
}
