import type { EngineContext } from '../../engine/context.js';
import { findJob } from '../../store/jobs.js';
import type { JobRow } from '../../store/schema.js';
import { badRequest, noJob } from './errors.js';
import { fromDeadlineId } from './ids.js';
import { asList, asString } from './values.js';

/** The job a JobID names; 500 (Deadline's answer) when there is none. */
export async function jobOf(
  ctx: EngineContext,
  text: unknown,
  options: { deleted?: boolean; archived?: boolean } = {},
): Promise<JobRow> {
  const id = fromDeadlineId(typeof text === 'number' ? text : asString(text)?.trim());
  const job = id === undefined ? undefined : await findJob(ctx.db, id);
  if (
    !job ||
    (!options.archived && job.archived_at !== null) ||
    (!options.deleted && job.deleted_at !== null)
  ) {
    throw noJob(asString(text));
  }
  return job;
}

/** Job ids of a JobID list ("a,b" or ["a","b"]); 400 with `missing` when there are none. */
export function jobIdList(value: unknown, missing: string): string[] {
  const ids = asList(value);
  if (ids.length === 0) throw badRequest(missing);
  return ids;
}

/** The numeric id of a JobID text, or 500. */
export function idOf(text: string): number {
  const id = fromDeadlineId(text);
  if (id === undefined) throw noJob(text);
  return id;
}
