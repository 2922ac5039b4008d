import type { Job } from '../api/types';

/*
 * A job's dependency settings as the native API takes them (src/domain/dependency-failure.ts):
 * what it does when a job it waits on fails or is canceled, and whether it waits frame by
 * frame. The policies are the server's (Job['onDependencyFailure']), never restated as types.
 */

export type DependencyFailurePolicy = Job['onDependencyFailure'];

export const DEPENDENCY_FAILURE_POLICIES: readonly DependencyFailurePolicy[] = [
  'CANCEL',
  'WAIT',
  'RUN',
];

/** Each policy in a few words, as the server's waiting reasons say it. */
export const DEPENDENCY_FAILURE_TEXT: Record<DependencyFailurePolicy, string> = {
  CANCEL: 'cancel this job',
  WAIT: 'wait until it is retried and completes',
  RUN: 'run anyway',
};

/** The server's default for a new job. */
export const DEFAULT_DEPENDENCY_FAILURE: DependencyFailurePolicy = 'CANCEL';

/**
 * Job ids as a person types them (`12, 14 15`, `#12`): the ids, or what is wrong. The
 * server checks that each exists and makes no cycle.
 */
export function parseJobIds(text: string): { ids: number[] } | { error: string } {
  const words = text
    .split(/[\s,]+/)
    .map((w) => w.replace(/^#/, ''))
    .filter((w) => w !== '');
  const bad = words.find((w) => !/^[1-9][0-9]{0,14}$/.test(w));
  if (bad !== undefined) return { error: `"${bad}" is not a job id (a whole number such as 12).` };
  return { ids: [...new Set(words.map(Number))] };
}

/** A frame offset field: empty is 0; text that is not a whole number goes as is. */
export const offsetValue = (text: string): number | string =>
  text.trim() === '' ? 0 : /^\s*-?\d+\s*$/.test(text) ? Number(text) : text;

/** Frame N moved by an offset, as a person writes it: N, N+2, N−1. */
const frameAt = (offset: number) =>
  offset === 0 ? 'N' : `N${offset < 0 ? '−' : '+'}${Math.abs(offset)}`;

/** How a job waits on its dependencies, in a line for its details. */
export function describeFrameDependency(job: Job): string {
  if (!job.frameDependent) return 'no: the whole job waits for its dependencies';
  const { frameOffsetStart: start, frameOffsetEnd: end } = job;
  const offsets =
    start === 0 && end === 0
      ? 'the same frame'
      : start === end
        ? `frame ${frameAt(start)}`
        : `frames ${frameAt(start)} to ${frameAt(end)}`;
  return `yes: frame N waits for ${offsets} of its dependencies`;
}
