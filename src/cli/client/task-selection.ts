import { CliError, type ApiClient } from './api-client.js';
import type { Page, Task } from './resources.js';

/*
 * Which tasks of a job a command names: a task index (`4`), a range (`3-7`) or a list of
 * both (`1,4,9-12`), as `drover show` and `drover task list` number them. The set is counted
 * before it is expanded, so `0-999999999` is refused without building a billion numbers.
 */

/** The most tasks one command changes; more is almost surely a typo. */
export const MAX_TASKS_SELECTED = 10_000;

const PAGE = 1000;

/** `1,4,9-12` → [1, 4, 9, 10, 11, 12], sorted and without repeats. */
export function parseTaskSet(text: string): number[] {
  const parts = text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  if (parts.length === 0) throw new CliError(`"${text}" names no task; give 4, 3-7 or 1,4,9-12`);
  const ranges: Array<[number, number]> = [];
  let count = 0;
  for (const part of parts) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) {
      throw new CliError(
        `"${part}" is not a task index or range; give 4, 3-7 or 1,4,9-12 (indexes as \`drover task list\` shows them)`,
      );
    }
    const first = Number(m[1]);
    const last = m[2] === undefined ? first : Number(m[2]);
    if (!Number.isSafeInteger(first) || !Number.isSafeInteger(last)) {
      throw new CliError(`"${part}" is too large for a task index`);
    }
    if (last < first) throw new CliError(`"${part}" runs backwards; write ${last}-${first}`);
    count += last - first + 1;
    if (count > MAX_TASKS_SELECTED) {
      throw new CliError(
        `"${text}" names more than ${MAX_TASKS_SELECTED} tasks; act on at most ${MAX_TASKS_SELECTED} at once (or on the whole job: drover suspend|resume|requeue JOB)`,
      );
    }
    ranges.push([first, last]);
  }
  const indexes = new Set<number>();
  for (const [first, last] of ranges) for (let i = first; i <= last; i++) indexes.add(i);
  return [...indexes].sort((a, b) => a - b);
}

/** [1, 2, 3, 7, 9, 10] → `1-3,7,9-10`: the short form of a set, for reports. */
export function describeTaskSet(indexes: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < indexes.length;) {
    let j = i;
    while (j + 1 < indexes.length && indexes[j + 1] === indexes[j]! + 1) j++;
    parts.push(i === j ? `${indexes[i]}` : `${indexes[i]}-${indexes[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/**
 * The tasks of a job with these indexes, in index order. A job's tasks are numbered from 0
 * without gaps and listed in index order, so the pages from offset `min` to `max` hold them;
 * only those pages are read. An index the job does not have is an error naming its range.
 */
export async function tasksByIndex(
  client: ApiClient,
  jobId: number,
  indexes: readonly number[],
): Promise<Task[]> {
  const wanted = new Set(indexes);
  const found = new Map<number, Task>();
  const low = Math.min(...indexes);
  const high = Math.max(...indexes);
  let total = 0;
  for (let offset = low; offset <= high; offset += PAGE) {
    const page = await client.get<Page<Task>>(`/jobs/${jobId}/tasks`, {
      offset,
      limit: Math.min(PAGE, high - offset + 1),
    });
    total = page.total;
    for (const t of page.items) if (wanted.has(t.index)) found.set(t.index, t);
    if (page.items.length === 0) break;
  }
  const missing = indexes.filter((i) => !found.has(i));
  if (missing.length > 0) {
    const range = total === 0 ? 'it has no tasks' : `its tasks are 0-${total - 1}`;
    const named =
      missing.length === 1
        ? `task ${missing[0]}`
        : `tasks ${describeTaskSet(missing.slice(0, 50))}${missing.length > 50 ? ',…' : ''}`;
    throw new CliError(`job ${jobId} has no ${named}; ${range}`);
  }
  return indexes.map((i) => found.get(i)!);
}

/** One task of a job by index. */
export async function taskByIndex(client: ApiClient, jobId: number, index: number): Promise<Task> {
  const [task] = await tasksByIndex(client, jobId, [index]);
  return task!;
}

/** A single task index from the command line. */
export function parseTaskIndex(text: string): number {
  if (!/^\d+$/.test(text.trim())) {
    throw new CliError(
      `"${text}" is not a task index (a whole number from 0, as \`drover task list\` shows)`,
    );
  }
  return Number(text);
}
