import { DroverError } from '../../domain/errors.js';
import type { JobTypeDefinition } from '../../domain/job-type-definition.js';
import { findJobType, findRevision } from '../../store/job-types.js';
import { findJob } from '../../store/jobs.js';
import type { JobRow } from '../../store/schema.js';
import type { EngineContext } from '../context.js';
import { formatMaxTries } from '../job-types/job-definition-formats.js';
import { applyJobAction, updateJobSettings } from './job-actions.js';

/*
 * Cancel and requeue applied to many jobs, as Scale's bulk commands do: job by job, newest
 * first, each in its own transaction, skipping (not failing on) a job that another request
 * moved meanwhile. The callers answer 202 before this runs.
 */

export interface BulkOutcome {
  changed: number[];
  skipped: number[];
}

async function each(
  ctx: EngineContext,
  ids: readonly number[],
  work: (job: JobRow) => Promise<boolean>,
): Promise<BulkOutcome> {
  const outcome: BulkOutcome = { changed: [], skipped: [] };
  for (const id of ids) {
    const job = await findJob(ctx.db, id);
    if (!job || job.deleted_at !== null) continue;
    try {
      if (await work(job)) outcome.changed.push(id);
      else outcome.skipped.push(id);
    } catch (error) {
      // Another request changed the job between the read and the action.
      if (!(error instanceof DroverError)) throw error;
      outcome.skipped.push(id);
    }
  }
  return outcome;
}

/** Cancels every job that has not ended well or been canceled already. */
export async function cancelJobs(ctx: EngineContext, ids: readonly number[]): Promise<BulkOutcome> {
  return each(ctx, ids, async (job) => {
    if (job.state === 'COMPLETED' || job.state === 'CANCELED') return false;
    await applyJobAction(ctx, job.id, 'cancel');
    return true;
  });
}

/**
 * Requeues FAILED and CANCELED jobs that were queued before, with a fresh allowance of
 * tries (Scale: max_tries = num_exes + the job type's max_tries) and, if given, a new
 * priority (already on Drover's scale). A CANCELED job that was never queued goes back
 * to PENDING instead. Others (COMPLETED, QUEUED, RUNNING, PENDING, BLOCKED) stay as they are.
 * `beforeRequeue` lets the caller note what its face keeps about a requeued job (Scale: the
 * tries before it) just before its settings change.
 */
export async function requeueJobs(
  ctx: EngineContext,
  ids: readonly number[],
  priority?: number,
  beforeRequeue?: (job: JobRow) => Promise<void>,
): Promise<BulkOutcome> {
  return each(ctx, ids, async (job) => {
    if (job.state !== 'FAILED' && job.state !== 'CANCELED') return false;
    if (job.queued_at === null) {
      if (job.state !== 'CANCELED') return false;
      await applyJobAction(ctx, job.id, 'requeue');
      await applyJobAction(ctx, job.id, 'pend');
      return true;
    }
    const type = await findJobType(ctx.db, job.job_type_id);
    const revision = type && (await findRevision(ctx.db, type.id, type.latest_revision));
    const definition = revision
      ? (JSON.parse(revision.definition_json) as JobTypeDefinition)
      : undefined;
    const typeMaxTries =
      formatMaxTries(ctx.formats, revision?.manifest_json ?? null) ??
      definition?.maxTries ??
      job.max_tries;
    await beforeRequeue?.(job);
    await updateJobSettings(ctx, job.id, {
      maxTries: typeMaxTries,
      ...(priority ? { priority } : {}),
    });
    await applyJobAction(ctx, job.id, 'requeue');
    return true;
  });
}
