import { LIVE_EXECUTION_STATES, type ExecutionState } from '../../domain/execution-state.js';
import { taskTimeoutActionOf } from '../../domain/task-timeout-action.js';
import { executionsPastTimeout, expiredLeases, lockExecution } from '../../store/executions.js';
import { foldJobTallies } from '../../store/job-tallies.js';
import { jobsPastTimeout, lockJob, schedulesDue } from '../../store/jobs.js';
import { markSilentNodesOffline } from '../../store/nodes.js';
import { endSessionsOfNode } from '../../store/sessions.js';
import { inTransaction, type EngineContext } from '../context.js';
import { failExecution, type Failure } from '../executions/execution-failures.js';
import {
  completeTimedOutExecution,
  flagTimedOutExecution,
} from '../executions/execution-reports.js';
import { applyJobAction, lockedJob } from '../jobs/job-actions.js';
import { followSchedule } from '../jobs/job-schedules.js';
import { scanForQuarantine } from '../nodes/node-quarantine.js';
import { pruneNodeTelemetry } from '../nodes/node-telemetry.js';
import { enqueueNodeLostNotifications } from '../notifications/notification-hook.js';
import type { EngineSettings } from '../settings.js';
import { releaseDueRetries } from '../tasks/retry-release.js';
import { announceUnboundRetries } from '../tasks/unbound-retries.js';

/** Rows handled per kind per tick; the next tick takes the rest. */
const BATCH = 200;

export interface ReapResult {
  lost: number;
  timedOut: number;
  jobsTimedOut: number;
  nodesOffline: number;
  /** Jobs their schedule started (released or resumed). */
  released: number;
  /** Jobs their schedule suspended. */
  suspended: number;
  /** Points of node telemetry history past their retention, deleted. */
  telemetryPruned: number;
  /** Failed tasks queued again once their retry delay passed. */
  retried: number;
  /** Nodes quarantined for their failure rate (nodes/node-quarantine.ts). */
  quarantined: number;
  /** Job tally deltas folded into the tallies (PostgreSQL; store/job-tallies.ts). */
  talliesFolded: number;
}

/**
 * Enforces time on the server side: expired leases (the node is gone), tasks and jobs past
 * their time limits, silent nodes, schedule starts and stops that came due, the
 * retention of node telemetry history, nodes whose failure rate quarantines them, and the
 * folding of job tally deltas. Every replica runs one; each row is re-checked under its
 * lock, so two reapers never apply the same change twice.
 */
export class LeaseReaper {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;

  constructor(
    private readonly ctx: EngineContext,
    private readonly settings: EngineSettings,
  ) {}

  start(): void {
    this.#timer = setInterval(() => {
      if (this.#running) return;
      this.#running = this.tick()
        .catch(() => undefined)
        .finally(() => (this.#running = undefined));
    }, this.settings.reaperIntervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }

  async tick(): Promise<ReapResult> {
    const now = this.ctx.clock();
    const lost = await this.#failEach(
      await expiredLeases(this.ctx.db, now, BATCH),
      'lose',
      {
        errorName: 'node-lost',
        message: 'the node stopped reporting and its lease expired',
      },
      (e) => e.lease_expires_at < now,
    );
    const timedOut = await this.#timeOutEach(
      await executionsPastTimeout(this.ctx.db, now, BATCH),
      now,
    );
    let jobsTimedOut = 0;
    for (const id of await jobsPastTimeout(this.ctx.db, now, BATCH)) {
      // Another replica may have ended it first; that is not an error here.
      await applyJobAction(this.ctx, id, 'fail', {
        name: 'timeout',
        message: 'the job ran past its time limit',
      }).then(
        () => jobsTimedOut++,
        () => undefined,
      );
    }
    const nodesOffline = await inTransaction(this.ctx, async (tx, emit) => {
      const silent = await markSilentNodesOffline(tx, now - this.settings.nodeTimeoutMs, now);
      for (const node of silent) {
        emit({
          type: 'node.state',
          nodeId: node.id,
          state: 'OFFLINE',
          enabled: node.enabled === 1,
        });
        await enqueueNodeLostNotifications(tx, emit, node, now);
        await announceUnboundRetries(tx, emit, node.id);
        // Its worker is gone (or cut off): it will report no end of its sessions itself.
        await endSessionsOfNode(tx, node.id, 'the worker stopped reporting (node offline)', now);
      }
      return silent.length;
    });
    let released = 0;
    let suspended = 0;
    for (const id of await schedulesDue(this.ctx.db, now, BATCH)) {
      const done = await inTransaction(this.ctx, async (tx, emit) => {
        const job = await lockJob(tx, this.ctx.dialect, id);
        // Another replica, or a change to the schedule, may have moved it on already.
        if (!job || job.next_schedule_at === null || job.next_schedule_at > now) return null;
        return followSchedule(this.ctx, tx, emit, job);
      });
      if (done === 'started') released++;
      else if (done === 'stopped') suspended++;
    }
    const telemetryPruned = await pruneNodeTelemetry(this.ctx, now);
    const retried = await releaseDueRetries(this.ctx, now, BATCH);
    const quarantined = (await scanForQuarantine(this.ctx, this.settings.quarantine, now)).length;
    const talliesFolded = await foldJobTallies(this.ctx.db);
    return {
      lost,
      timedOut,
      jobsTimedOut,
      nodesOffline,
      released,
      suspended,
      telemetryPruned,
      retried,
      quarantined,
      talliesFolded,
    };
  }

  /**
   * Applies each job's task timeout action to its executions past the timeout: FAIL fails
   * the execution with error "timeout", COMPLETE completes it and its task, NOTIFY flags it
   * timed out once and leaves it running. The node of a failed or completed execution
   * learns at its next heartbeat and kills the command.
   */
  async #timeOutEach(ids: number[], now: number): Promise<number> {
    let count = 0;
    for (const id of ids) {
      count += await inTransaction(this.ctx, async (tx, emit) => {
        const execution = await lockExecution(tx, this.ctx.dialect, id);
        if (execution?.state !== 'RUNNING' || execution.started_at === null) return 0;
        const job = await lockedJob(this.ctx, tx, execution.job_id);
        // The job's settings may have changed since the query; check again under the locks.
        if (job.task_timeout_s <= 0 || execution.started_at + job.task_timeout_s * 1000 >= now) {
          return 0;
        }
        switch (taskTimeoutActionOf(job.task_timeout_action)) {
          case 'NOTIFY':
            return (await flagTimedOutExecution(this.ctx, tx, execution)) ? 1 : 0;
          case 'COMPLETE':
            await completeTimedOutExecution(this.ctx, tx, emit, execution);
            return 1;
          case 'FAIL':
            await failExecution(this.ctx, tx, emit, execution, 'fail', {
              errorName: 'timeout',
              message: 'the task ran past its time limit',
              timedOut: true,
            });
            return 1;
        }
      });
    }
    return count;
  }

  async #failEach(
    ids: number[],
    event: 'lose' | 'fail',
    failure: Failure,
    stillDue: (e: { lease_expires_at: number; state: string }) => boolean,
  ): Promise<number> {
    let count = 0;
    for (const id of ids) {
      count += await inTransaction(this.ctx, async (tx, emit) => {
        const execution = await lockExecution(tx, this.ctx.dialect, id);
        if (!execution || !LIVE_EXECUTION_STATES.includes(execution.state as ExecutionState))
          return 0;
        if (!stillDue(execution)) return 0;
        await failExecution(this.ctx, tx, emit, execution, event, failure);
        return 1;
      });
    }
    return count;
  }
}
