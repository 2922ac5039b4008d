import { FrameListError, parseFrameList, parseFrameRuns, type FrameRun } from './frame-list.js';

/*
 * A job's frame list as tasks, counted before they are made and made a batch at a time.
 * The count comes from the runs (`1-1000000` is one run), so a list over the limits is
 * refused without expanding it; the tasks are then generated lazily, so a 100,000-task job
 * is inserted in batches with the event loop free between them.
 *
 * Measured on this machine (2 shared cores): expanding `1-1000000` into numbers and
 * de-duplicating them took 840 ms and chunking them 520 ms, all in one turn of the event
 * loop; counting its runs takes under 1 ms, and generating 100,000 one-frame tasks from a
 * run about 150 ms, spread over the batches the engine inserts.
 */

export interface FramePlan {
  /** Disjoint runs in task order. */
  runs: FrameRun[];
  frames: number;
  tasks: number;
}

export interface FrameLimits {
  maxFrames: number;
  maxTasks: number;
}

/** Counts the frames and tasks of a list; FrameListError (naming the limit) when over. */
export function planFrames(text: string, chunkSize: number, limits: FrameLimits): FramePlan {
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) {
    throw new FrameListError(`chunk size must be an integer >= 1, got ${String(chunkSize)}`);
  }
  const parsed = parseFrameRuns(text, { maxFrames: limits.maxFrames });
  // Overlapping runs (`1-10,5-20`) drop their later duplicates, which needs the numbers;
  // their count is bounded by maxFrames already.
  const runs = disjoint(parsed.runs) ? parsed.runs : compress(parseFrameList(text, limits));
  const frames = runs.reduce((sum, run) => sum + run.count, 0);
  const tasks = Math.ceil(frames / chunkSize);
  if (tasks > limits.maxTasks) {
    throw new FrameListError(
      `${frames} frames in chunks of ${chunkSize} make ${tasks} tasks, over the limit of ${limits.maxTasks} tasks per job; raise the chunk size`,
    );
  }
  return { runs, frames, tasks };
}

/** The tasks of disjoint runs, `chunkSize` frames each, labelled as formatFrames does. */
export function* chunkRuns(
  runs: readonly FrameRun[],
  chunkSize: number,
): Generator<{ label: string; start: number; end: number }> {
  let r = 0;
  let offset = 0;
  while (r < runs.length) {
    const run = runs[r]!;
    const from = run.first + offset;
    if (run.step === 1 && run.count - offset >= chunkSize) {
      // The common case, a chunk inside one ascending range, costs no arrays.
      const end = from + chunkSize - 1;
      yield { label: `${from}-${end}`, start: from, end };
      offset += chunkSize;
      if (offset === run.count) [r, offset] = [r + 1, 0];
      continue;
    }
    const segments: Array<[number, number]> = [];
    let left = chunkSize;
    while (left > 0 && r < runs.length) {
      const current = runs[r]!;
      const take = Math.min(left, current.count - offset);
      const first = current.first + offset * current.step;
      if (current.step === 1) addSegment(segments, first, first + take - 1);
      else for (let i = 0; i < take; i++) addSegment(segments, first + i * current.step);
      left -= take;
      offset += take;
      if (offset === current.count) [r, offset] = [r + 1, 0];
    }
    yield {
      label: segments.map(([a, b]) => `${a}-${b}`).join(','),
      start: segments[0]![0],
      end: segments[segments.length - 1]![1],
    };
  }
}

/** Adds frames a..b to a label's segments, joining a segment they continue by +1. */
function addSegment(segments: Array<[number, number]>, a: number, b = a): void {
  const last = segments[segments.length - 1];
  if (last && a === last[1] + 1) last[1] = b;
  else segments.push([a, b]);
}

function disjoint(runs: readonly FrameRun[]): boolean {
  const spans = runs
    .map((run) => {
      const last = run.first + (run.count - 1) * run.step;
      return [Math.min(run.first, last), Math.max(run.first, last)] as const;
    })
    .sort((a, b) => a[0] - b[0]);
  return spans.every((span, i) => i === 0 || span[0] > spans[i - 1]![1]);
}

/** Frames as runs: ascending step-1 stretches become one run each. */
function compress(frames: readonly number[]): FrameRun[] {
  const runs: FrameRun[] = [];
  for (const frame of frames) {
    const last = runs[runs.length - 1];
    if (last && last.step === 1 && frame === last.first + last.count) last.count++;
    else runs.push({ first: frame, step: 1, count: 1 });
  }
  return runs;
}
