import {
  DEPENDENCY_FAILURE_POLICIES,
  isDependencyFailurePolicy,
} from '../../domain/dependency-failure.js';
import { invalid } from '../../domain/errors.js';
import { MAX_DEPENDENCIES } from '../../domain/job-bounds.js';
import { FINAL_JOB_STATES } from '../../domain/job-state.js';
import type { Tx } from '../../store/database.js';
import {
  childrenOf,
  dependenciesOf,
  dependencyEdgesFrom,
  findJob,
  findJobs,
  lockJob,
  setDependencies,
  unmetDependencies,
  updateJob,
} from '../../store/jobs.js';
import type { JobRow } from '../../store/schema.js';
import { tasksInStates } from '../../store/tasks.js';
import type { Emit, EngineContext } from '../context.js';
import { changeJobState, moveTasks, releaseWhenDependenciesMet } from '../state-changes.js';
import { meetFailedDependencies } from './dependency-failure.js';
import { syncFrameHolds } from './frame-dependencies.js';
import { isParentJob } from './job-families.js';

/*
 * Replacing the dependencies of a job that exists. The job's state follows the new list the
 * way it would have followed it at submission, as far as that can be without undoing work:
 *
 * - PENDING on DEPENDENCIES whose new dependencies are all complete is released, exactly as
 *   when its last dependency completes (or waits on its schedule if that lies ahead);
 * - PENDING on SCHEDULE that gets an incomplete dependency waits on it first, as at
 *   submission; PENDING by hand stays pended by hand (a release by hand ignores them);
 * - QUEUED with every task still queued (nothing started, suspended or done) that gets an
 *   incomplete dependency goes back to PENDING on DEPENDENCIES, tasks and all;
 * - any other job keeps its state: running and finished tasks are not withdrawn, and the
 *   new list counts when the job next waits on it (a resume of a suspended job checks it).
 */

/** Reads the jobs `ids` names; one that does not exist is a validation error. */
export async function existingJobs(tx: Tx, ids: readonly number[]): Promise<JobRow[]> {
  if (ids.length > MAX_DEPENDENCIES) {
    throw invalid(`a job may depend on at most ${MAX_DEPENDENCIES} jobs, got ${ids.length}`, {
      field: 'dependencies',
    });
  }
  const found = await findJobs(tx, ids);
  if (found.length !== ids.length) {
    const known = new Set(found.map((j) => j.id));
    const missing = ids.filter((id) => !known.has(id));
    throw invalid(`dependencies refer to jobs that do not exist: ${missing.join(', ')}`, {
      field: 'dependencies',
    });
  }
  return found;
}

/**
 * Sets `job`'s dependencies to `ids` and moves its state as described above. The caller holds
 * lockDependencyGraph and then the job's lock, in that order: the new rows' foreign keys lock
 * the jobs they name, so a change that took the graph lock after its job's could deadlock
 * with one that holds the graph lock and names that job. Returns false, having touched
 * nothing, when the list is the same.
 */
export async function replaceDependencies(
  ctx: EngineContext,
  tx: Tx,
  emit: Emit,
  job: JobRow,
  ids: readonly number[],
): Promise<boolean> {
  const next = [...new Set(ids)].sort((a, b) => a - b);
  if (next.includes(job.id)) {
    throw invalid(`a job cannot depend on itself (job ${job.id})`, { field: 'dependencies' });
  }
  const current = await dependenciesOf(tx, job.id);
  if (current.length === next.length && current.every((id, i) => id === next[i])) return false;
  await existingJobs(tx, next);
  await refuseCycle(tx, job.id, next);
  await setDependencies(tx, job.id, next, job.frame_dependent === 1);

  const unmet = await unmetDependencies(tx, job.id);
  if (job.state === 'PENDING') {
    if (unmet.length === 0 && job.pend_reason === 'DEPENDENCIES') {
      await releaseWhenDependenciesMet(ctx, tx, emit, job);
    } else if (unmet.length > 0 && job.pend_reason === 'SCHEDULE') {
      await updateJob(tx, job.id, { pend_reason: 'DEPENDENCIES', last_modified: ctx.clock() });
      emit({ type: 'job.updated', jobId: job.id, fields: ['pendReason'] });
    }
  } else if (job.state === 'QUEUED' && unmet.length > 0 && job.tasks_queued === job.task_count) {
    await moveTasks(ctx, tx, emit, job.id, await tasksInStates(tx, job.id, ['QUEUED']), 'pend');
    await changeJobState(ctx, tx, emit, job, 'pend', { pend_reason: 'DEPENDENCIES' });
  }
  const now = await findJob(tx, job.id);
  if (now) await syncFrameHolds(ctx, tx, emit, now);
  if (now) await meetFailedDependencies(ctx, tx, emit, now);
  return true;
}

/**
 * Sets what the job (a parent: and its children) does when a dependency fails, and applies
 * it at once to a job waiting on one that already failed: CANCEL cancels it, RUN releases
 * it when nothing else holds it. Returns false, having touched nothing, when it is the same.
 */
export async function replaceFailurePolicy(
  ctx: EngineContext,
  tx: Tx,
  emit: Emit,
  jobId: number,
  policy: string,
): Promise<boolean> {
  if (!isDependencyFailurePolicy(policy)) {
    throw invalid(`onDependencyFailure must be one of ${DEPENDENCY_FAILURE_POLICIES.join(', ')}`, {
      field: 'onDependencyFailure',
    });
  }
  const job = await lockJob(tx, ctx.dialect, jobId);
  if (!job || job.on_dependency_failure === policy) return false;
  await updateJob(tx, jobId, { on_dependency_failure: policy, last_modified: ctx.clock() });
  for (const child of isParentJob(job) ? await childrenOf(tx, jobId) : []) {
    await replaceFailurePolicy(ctx, tx, emit, child.id, policy);
  }
  const changed = { ...job, on_dependency_failure: policy };
  if (changed.state !== 'PENDING' || changed.pend_reason !== 'DEPENDENCIES') return true;
  if (isParentJob(changed)) return true;
  if ((await unmetDependencies(tx, jobId)).length === 0) {
    await releaseWhenDependenciesMet(ctx, tx, emit, changed);
  } else {
    await meetFailedDependencies(ctx, tx, emit, changed);
  }
  return true;
}

/**
 * A submission's dependencies, checked: which are waited on frame by frame (all with
 * `frameDependent`, else those of `frameDependencies`), and whether the others hold the job
 * PENDING (under RUN a dependency that ended in any way is met).
 */
export async function submissionDependencies(
  tx: Tx,
  spec: {
    dependencies?: number[];
    frameDependent?: boolean;
    frameDependencies?: number[];
    onDependencyFailure?: string;
  },
): Promise<{ dependencies: number[]; byFrame: Set<number>; waitsOnDependencies: boolean }> {
  if (
    spec.onDependencyFailure !== undefined &&
    !isDependencyFailurePolicy(spec.onDependencyFailure)
  ) {
    throw invalid(`onDependencyFailure must be one of ${DEPENDENCY_FAILURE_POLICIES.join(', ')}`, {
      field: 'onDependencyFailure',
    });
  }
  const dependencies = [...new Set(spec.dependencies ?? [])];
  const byFrame = new Set(
    spec.frameDependent
      ? dependencies
      : (spec.frameDependencies ?? []).filter((id) => dependencies.includes(id)),
  );
  const whole = (await existingJobs(tx, dependencies)).filter((j) => !byFrame.has(j.id));
  const met: readonly string[] =
    spec.onDependencyFailure === 'RUN' ? FINAL_JOB_STATES : ['COMPLETED'];
  return {
    dependencies,
    byFrame,
    waitsOnDependencies: whole.some((j) => !met.includes(j.state)),
  };
}

/** Query size for walking the graph: well inside both databases' parameter limits. */
const WALK_BATCH = 500;

/** Refuses `on` if any of them waits on `jobId`, directly or through other jobs. */
async function refuseCycle(tx: Tx, jobId: number, on: readonly number[]): Promise<void> {
  // Each job reached, and the job that waits on it on the way from `jobId`.
  const reachedFrom = new Map<number, number>(on.map((id) => [id, jobId]));
  let frontier = [...on];
  while (frontier.length > 0) {
    const next: number[] = [];
    for (let i = 0; i < frontier.length; i += WALK_BATCH) {
      for (const edge of await dependencyEdgesFrom(tx, frontier.slice(i, i + WALK_BATCH))) {
        if (edge.dependsOnId === jobId) {
          const cycle = [jobId];
          for (let at = edge.jobId; at !== jobId; at = reachedFrom.get(at) ?? jobId) {
            cycle.splice(1, 0, at);
          }
          cycle.push(jobId);
          const [first, second, ...rest] = cycle;
          const through = rest.map((id) => `, which waits on job ${id}`).join('');
          throw invalid(
            `dependencies would make a cycle: job ${first} would wait on job ${second}${through}`,
            { field: 'dependencies', cycle },
          );
        }
        if (reachedFrom.has(edge.dependsOnId)) continue;
        reachedFrom.set(edge.dependsOnId, edge.jobId);
        next.push(edge.dependsOnId);
      }
    }
    frontier = next;
  }
}
