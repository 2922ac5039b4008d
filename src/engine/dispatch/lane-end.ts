import { claimGroup, type CompletedCounts } from '../../store/claim-groups.js';
import type { Tx } from '../../store/database.js';
import type { JobRow } from '../../store/schema.js';
import type { Emit, EngineContext } from '../context.js';
import { settleFreshJobs } from '../tasks/task-actions.js';

/**
 * PostgreSQL: the job counters that a write-lane transaction's finishes have yet to move,
 * moved at its end with its claims' (migration 0030), so that the transaction holds its jobs'
 * rows for its last statement and its commit only: another transaction that needs them (a
 * replica's lane, an operator's action) waits no longer than that (write-lane.ts). The
 * finishes write their executions and tasks at once and leave their counts here; the group
 * of claims takes them (claim-group.ts), or, when the transaction claimed nothing, `flush`
 * moves them alone, through the same function, in the same order. Then the jobs are settled
 * on their rows as the counters left them, together (settleFreshJobs): the jobs that finish
 * end in one statement.
 */
export class LaneEnd {
  readonly #done = new Map<number, number[]>();

  constructor(
    private readonly ctx: EngineContext,
    private readonly tx: Tx,
    private readonly emit: Emit,
  ) {}

  /** These tasks of the job completed; the job is settled once its counters have moved. */
  completed(jobId: number, taskIds: readonly number[]): void {
    const done = this.#done.get(jobId) ?? [];
    done.push(...taskIds);
    this.#done.set(jobId, done);
  }

  /** The counts still to move, in job id order; taking them makes the caller move them. */
  take(): { counts: CompletedCounts[]; settle: (jobs: Map<number, JobRow>) => Promise<void> } {
    const taken = [...this.#done].sort(([a], [b]) => a - b);
    this.#done.clear();
    return {
      counts: taken.map(([jobId, done]) => ({ jobId, count: done.length })),
      settle: async (jobs) => {
        const fresh = taken.map(([jobId, done]) => {
          const job = jobs.get(jobId);
          if (!job) throw new Error(`job ${jobId} vanished while its executions completed`);
          return { job, done };
        });
        for (const [id, job] of await settleFreshJobs(this.ctx, this.tx, this.emit, fresh)) {
          jobs.set(id, job);
        }
      },
    };
  }

  /** Moves what is left, when no group of claims took it. */
  async flush(): Promise<void> {
    if (this.#done.size === 0) return;
    const { counts, settle } = this.take();
    const { completedJobs } = await claimGroup(this.tx, [], NO_WALK, counts);
    await settle(new Map(completedJobs.map((j) => [j.id, j])));
  }
}

/** The walk of a group of no claims: only the counters move. */
const NO_WALK = {
  now: 0,
  leaseExpiresAt: 0,
  heartbeatBefore: 0,
  maxClaim: 0,
  maxSkippedJobs: 0,
  jobsPerLook: 0,
};
