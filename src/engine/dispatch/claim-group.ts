import { notFound } from '../../domain/errors.js';
import type { Tx } from '../../store/database.js';
import type { JobRow } from '../../store/schema.js';
import type { Emit, EngineContext } from '../context.js';
import type { EngineSettings } from '../settings.js';
import { changeJobStates, emitTasksMoved } from '../state-changes.js';
import {
  HEARTBEAT_WRITE_MS,
  JOBS_PER_LOOK,
  MAX_CLAIM,
  MAX_SKIPPED_JOBS,
  type Acquired,
  type ClaimCall,
  type JobTypeRows,
} from './claim-walk.js';
import { ItemFailure } from './group-commit.js';
import type { LaneEnd } from './lane-end.js';
import { emitClaimed } from './task-dispatch.js';

/**
 * PostgreSQL: the claims of a lane transaction, gathered before anything is written, so that
 * one statement (LaneEnd.run) may record the transaction's finishes and take the claims.
 */
export function gatherClaims(
  settings: EngineSettings,
  calls: readonly ClaimCall[],
  end: LaneEnd,
): void {
  end.claimLater(
    calls.map(({ nodeId, options }) => ({
      nodeId,
      max: options.max ?? 1,
      start: options.start ?? false,
      prefer: options.prefer ?? [],
    })),
    (now) => ({
      now,
      leaseExpiresAt: now + settings.leaseMs,
      heartbeatBefore: now - HEARTBEAT_WRITE_MS,
      maxClaim: MAX_CLAIM,
      maxSkippedJobs: MAX_SKIPPED_JOBS,
      jobsPerLook: JOBS_PER_LOOK,
    }),
  );
}

/**
 * PostgreSQL: the group's claims in one round trip (claimGroup, through LaneEnd.run, which
 * may have recorded the transaction's finishes in the same statement), each walking the
 * queue as the dispatcher's #claimIn does, with the counters the finishes moved; then the
 * events and work orders of what each took, and the finished jobs settled. A group of N
 * claims was 4N round trips, each a turn of a busy server's event loop, while the group's
 * transaction held the row locks of every job it had claimed from.
 */
export async function claimGroupIn(
  ctx: EngineContext,
  rows: JobTypeRows,
  tx: Tx,
  emit: Emit,
  calls: readonly ClaimCall[],
  end: LaneEnd,
): Promise<(Acquired[] | ItemFailure)[]> {
  const { claims: results, completedJobs, now } = await end.run();
  // Each job's row as the group left it (counters moved by every claim of it), taken out
  // of QUEUED once, whichever claim took its first task.
  const claimed = new Map<number, JobRow>();
  for (const { taken } of results) for (const { job } of taken) claimed.set(job.id, job);
  const starting = [...claimed.values()].filter((job) => job.state === 'QUEUED');
  for (const job of await changeJobStates(ctx, tx, emit, starting, 'start')) {
    claimed.set(job.id, job);
  }
  const jobs = new Map<number, JobRow>([
    ...completedJobs.map((j) => [j.id, j] as const),
    ...claimed,
  ]);
  await end.settle(jobs);
  const answers: (Acquired[] | ItemFailure)[] = [];
  for (const [i, result] of results.entries()) {
    const { nodeId, options, look } = calls[i]!;
    if (!result.found) {
      answers.push(new ItemFailure(notFound('node', nodeId)));
      continue;
    }
    if (result.priorState !== 'ONLINE') {
      emit({ type: 'node.state', nodeId, state: 'ONLINE', enabled: result.enabled });
    }
    if (result.contended) look.contended = true;
    const acquired: Acquired[] = [];
    for (const { execution, task, job: claimed, queuedAt } of result.taken) {
      const job = jobs.get(claimed.id)!;
      const type = await rows.type(tx, job.job_type_id);
      const revision = await rows.revision(tx, job.job_type_rev_id);
      if (!type || !revision) throw notFound('job type', job.job_type_id);
      emitClaimed(emit, execution, options.start ?? false);
      acquired.push({
        execution,
        task,
        job,
        type,
        revision,
        queuedMs: Math.max(0, now - queuedAt),
      });
    }
    // One event per job a claim took tasks of, as dispatchTasks emits.
    const byJob = new Map<number, number[]>();
    for (const { task } of acquired) {
      byJob.set(task.job_id, [...(byJob.get(task.job_id) ?? []), task.id]);
    }
    for (const [jobId, taskIds] of byJob) {
      emitTasksMoved(emit, jobId, taskIds, 'QUEUED', 'RUNNING');
    }
    answers.push(acquired);
  }
  return answers;
}
