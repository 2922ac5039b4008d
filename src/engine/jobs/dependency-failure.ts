import { dependencyFailurePolicyOf } from '../../domain/dependency-failure.js';
import { taskStateMachine } from '../../domain/task-state.js';
import type { Tx } from '../../store/database.js';
import { liveExecutionsOfTasks } from '../../store/executions.js';
import {
  dependentsReadyToRelease,
  dependentsToCancel,
  failedDependencies,
  findJob,
  lockJob,
} from '../../store/jobs.js';
import type { JobRow } from '../../store/schema.js';
import { tasksInStates } from '../../store/tasks.js';
import type { Emit, EngineContext } from '../context.js';
import {
  changeJobState,
  moveTasks,
  releaseWhenDependenciesMet,
  stopExecutions,
} from '../state-changes.js';
import { releaseFrameTasks } from './frame-dependencies.js';
import { isParentJob } from './job-families.js';

/*
 * What the jobs waiting on a job do when it ends (src/domain/dependency-failure.ts). A
 * dependent canceled here ends in turn, so the jobs waiting on it follow the same way down
 * the graph. Only jobs PENDING on DEPENDENCIES move: one pended by hand or suspended keeps
 * its state, and meets the policy when it next waits on its dependencies (a resume).
 *
 * A parent job (src/engine/jobs/job-families.ts) waits through its first children, which
 * carry its dependencies and its policy: it is left to follow them.
 */

/** Releases or cancels the jobs waiting on `ended`, which just COMPLETED, FAILED or CANCELED. */
export async function settleDependents(
  ctx: EngineContext,
  tx: Tx,
  emit: Emit,
  ended: readonly JobRow[],
): Promise<void> {
  if (ended.length === 0) return;
  // One read for all the jobs that ended together (the write lane ends many at once).
  const ready = await dependentsReadyToRelease(
    tx,
    ended.map((j) => j.id),
  );
  for (const one of ended) {
    for (const id of ready.get(one.id) ?? []) {
      const job = await lockJob(tx, ctx.dialect, id);
      // Released already by another job of the group that it waited on too.
      if (!job || job.state !== 'PENDING') continue;
      await releaseWhenDependenciesMet(ctx, tx, emit, job);
    }
    await releaseFrameTasks(ctx, tx, emit, one);
    if (one.state === 'COMPLETED') continue;
    for (const id of await dependentsToCancel(tx, one.id)) {
      const job = await lockJob(tx, ctx.dialect, id);
      if (job) await cancelForDependency(ctx, tx, emit, job, one);
    }
  }
}

/**
 * Applies the policy to a job that has just started to wait on its dependencies (submitted,
 * given new ones, resumed, or given a new policy) while one of them already failed.
 */
export async function meetFailedDependencies(
  ctx: EngineContext,
  tx: Tx,
  emit: Emit,
  job: JobRow,
): Promise<void> {
  if (!waitsOnDependencies(job)) return;
  if (dependencyFailurePolicyOf(job.on_dependency_failure) !== 'CANCEL') return;
  const [failed] = await failedDependencies(tx, job.id);
  if (!failed) return;
  const dependency = await findJob(tx, failed.id);
  if (dependency) await cancelForDependency(ctx, tx, emit, job, dependency);
}

/** PENDING on its dependencies, or QUEUED or RUNNING with tasks waiting frame by frame. */
function waitsOnDependencies(job: JobRow): boolean {
  if (job.state === 'PENDING') return job.pend_reason === 'DEPENDENCIES';
  return job.frame_dependent === 1 && (job.state === 'QUEUED' || job.state === 'RUNNING');
}

async function cancelForDependency(
  ctx: EngineContext,
  tx: Tx,
  emit: Emit,
  job: JobRow,
  dependency: JobRow,
): Promise<void> {
  if (!waitsOnDependencies(job) || isParentJob(job)) return;
  const tasks = await tasksInStates(tx, job.id, taskStateMachine.sources('cancel'));
  // Only a job waiting frame by frame may have tasks running; they stop as on any cancel.
  const running = tasks.filter((t) => t.state === 'RUNNING').map((t) => t.id);
  if (running.length > 0) {
    await stopExecutions(ctx, tx, emit, await liveExecutionsOfTasks(tx, running));
  }
  await moveTasks(ctx, tx, emit, job.id, tasks, 'cancel');
  const how = dependency.state === 'FAILED' ? 'failed' : 'was canceled';
  await changeJobState(ctx, tx, emit, job, 'cancel', {
    error_name: 'dependency-failed',
    error_message: `canceled: job ${dependency.id} (${dependency.name}), which it depends on, ${how}`,
  });
}
