import { notFound } from '../../domain/errors.js';
import { detachProductFilesOfBlob } from '../../store/files.js';
import {
  clearOutputDeleted,
  deleteOutputAndBlob,
  findLiveOutputLike,
  markOutputDeleted,
} from '../../store/named-outputs.js';
import { findOutput, type OutputRow } from '../../store/outputs.js';
import { inTransaction, type EngineContext } from '../context.js';
import { lockedJob } from '../jobs/job-actions.js';

/*
 * Deleting an output for good, and taking back a soft delete. A soft-deleted output is out
 * of the job's native output list and its content (the mark that reset, abort and a
 * retried upload also set); a purged one is gone with its bytes.
 */

/** Marks the output deleted, then removes it and its bytes; returns it as it was last. */
export async function purgeOutput(ctx: EngineContext, outputId: number): Promise<OutputRow> {
  return inTransaction(ctx, async (tx) => {
    const now = ctx.clock();
    await markOutputDeleted(tx, outputId, now);
    const output = await findOutput(tx, outputId);
    if (!output) throw notFound('output', outputId);
    // A Seed job's product file holds the same blob: it is deleted with it.
    await detachProductFilesOfBlob(tx, output.blob_id, now);
    await deleteOutputAndBlob(tx, output);
    return output;
  });
}

/**
 * Clears the deletion mark. An output that a later upload of the same name and type
 * replaced stays deleted (`replacedBy`): a job shows one output per name and type.
 */
export async function reinstateOutput(
  ctx: EngineContext,
  outputId: number,
): Promise<{ output: OutputRow } | { replacedBy: OutputRow }> {
  return inTransaction(ctx, async (tx) => {
    const found = await findOutput(tx, outputId);
    if (!found) throw notFound('output', outputId);
    // The job's lock orders this against uploads and other reinstatements of the job.
    await lockedJob(ctx, tx, found.job_id);
    const output = await findOutput(tx, outputId);
    if (!output) throw notFound('output', outputId);
    if (output.deleted_at === null) return { output };
    const live = await findLiveOutputLike(tx, output);
    if (live) return { replacedBy: live };
    await clearOutputDeleted(tx, outputId);
    return { output: (await findOutput(tx, outputId))! };
  });
}
