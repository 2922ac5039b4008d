import { DroverError } from '../../domain/errors.js';
import { deleteBlobsOfJob } from '../../store/blobs.js';
import type { Tx } from '../../store/database.js';
import { liveExecutionsOfJob } from '../../store/executions.js';
import { detachProductFilesOfJob } from '../../store/files.js';
import {
  childrenOf,
  deleteJobRow,
  dependentsOf,
  lockJob,
  unmetDependencies,
  updateJob,
} from '../../store/jobs.js';
import type { JobRow } from '../../store/schema.js';
import { tasksInStates } from '../../store/tasks.js';
import { inTransaction, type Emit, type EngineContext } from '../context.js';
import { moveTasks, releaseWhenDependenciesMet, stopExecutions } from '../state-changes.js';
import { lockedJob } from './job-actions.js';
import { followChildren, isParentJob } from './job-families.js';

/* Deleting a job: hidden (soft), back (undelete), or gone with its rows (purge). */

/**
 * Soft delete: hidden from lists and never dispatched until undeleted; running work stops.
 * A parent's children go with it, in the same transaction, as an action on a parent is that
 * action on its children.
 */
export async function deleteJob(ctx: EngineContext, jobId: number): Promise<void> {
  await inTransaction(ctx, async (tx, emit) => {
    await softDelete(ctx, tx, emit, await lockedJob(ctx, tx, jobId));
  });
}

async function softDelete(ctx: EngineContext, tx: Tx, emit: Emit, job: JobRow): Promise<void> {
  // A child deleted on its own before stays deleted; the parent's other children go now.
  for (const child of isParentJob(job) ? await childrenOf(tx, job.id) : []) {
    await softDelete(ctx, tx, emit, await lockedJob(ctx, tx, child.id));
  }
  if (job.deleted_at !== null) return;
  const jobId = job.id;
  const live = await liveExecutionsOfJob(tx, jobId);
  await stopExecutions(ctx, tx, emit, live);
  const running = await tasksInStates(tx, jobId, ['RUNNING']);
  await moveTasks(ctx, tx, emit, jobId, running, 'retry');
  await updateJob(tx, jobId, { deleted_at: ctx.clock(), last_modified: ctx.clock() });
  emit({ type: 'job.deleted', jobId, purged: false });
}

/** Brings a deleted job back; a parent brings its children back with it. */
export async function undeleteJob(ctx: EngineContext, jobId: number): Promise<void> {
  await inTransaction(ctx, async (tx, emit) => {
    await restore(ctx, tx, emit, await lockedJob(ctx, tx, jobId));
  });
}

async function restore(ctx: EngineContext, tx: Tx, emit: Emit, job: JobRow): Promise<void> {
  for (const child of isParentJob(job) ? await childrenOf(tx, job.id) : []) {
    await restore(ctx, tx, emit, await lockedJob(ctx, tx, child.id));
  }
  if (job.deleted_at === null) return;
  await updateJob(tx, job.id, { deleted_at: null, last_modified: ctx.clock() });
  emit({ type: 'job.undeleted', jobId: job.id });
}

/** Removes a deleted job and everything it owns for good. */
export async function purgeJob(ctx: EngineContext, jobId: number): Promise<void> {
  await inTransaction(ctx, async (tx, emit) => {
    const job = await lockedJob(ctx, tx, jobId);
    if (job.deleted_at === null) {
      throw new DroverError('CONFLICT', `job ${jobId} is not deleted; delete it before purging`);
    }
    await purgeRows(ctx, tx, emit, job);
    // A child purged alone leaves a parent whose state is its remaining children's.
    if (job.parent_id !== null) await followChildren(ctx, tx, emit, job.parent_id);
  });
}

/** Purges a job and, for a parent, its children: a family goes together. */
async function purgeRows(ctx: EngineContext, tx: Tx, emit: Emit, job: JobRow): Promise<void> {
  const jobId = job.id;
  if (isParentJob(job)) {
    for (const child of await childrenOf(tx, jobId)) {
      await purgeRows(ctx, tx, emit, await lockedJob(ctx, tx, child.id));
    }
  }
  const dependents = await dependentsOf(tx, jobId);
  await detachProductFilesOfJob(tx, jobId, ctx.clock());
  await deleteBlobsOfJob(tx, jobId);
  await deleteJobRow(tx, jobId);
  emit({ type: 'job.deleted', jobId, purged: true });
  // A purged dependency is gone for good: jobs that waited only on it may run now.
  for (const id of dependents) {
    const dependent = await lockJob(tx, ctx.dialect, id);
    if (
      dependent?.state === 'PENDING' &&
      dependent.pend_reason === 'DEPENDENCIES' &&
      (await unmetDependencies(tx, id)).length === 0
    ) {
      await releaseWhenDependenciesMet(ctx, tx, emit, dependent);
    }
  }
}
