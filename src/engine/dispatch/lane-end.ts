import { claimGroup, type CompletedCounts } from '../../store/claim-groups.js';
import type { Tx } from '../../store/database.js';
import type { JobRow } from '../../store/schema.js';

/** What follows once a job's counters have moved: its state settled on the row as it is. */
export type Settle = (job: JobRow) => Promise<JobRow>;

/**
 * PostgreSQL: the job counters that a write-lane transaction's finishes have yet to move,
 * moved at its end with its claims' (migration 0030), so that the transaction holds its jobs'
 * rows for its last statement and its commit only: another transaction that needs them (a
 * replica's lane, an operator's action) waits no longer than that (write-lane.ts). The finishes write their executions and tasks at once and leave their
 * counts here; the group of claims takes them (claim-group.ts), or, when the transaction
 * claimed nothing, `flush` moves them alone, through the same function, in the same order.
 * Each job's settling waits for its row.
 */
export class LaneEnd {
  readonly #counts = new Map<number, { count: number; settles: Settle[] }>();

  /** `count` tasks of the job completed; `settle` runs once its counters have moved. */
  completed(jobId: number, count: number, settle: Settle): void {
    const entry = this.#counts.get(jobId) ?? { count: 0, settles: [] };
    entry.count += count;
    entry.settles.push(settle);
    this.#counts.set(jobId, entry);
  }

  /** The counts still to move, in job id order; taking them makes the caller move them. */
  take(): { counts: CompletedCounts[]; settle: (jobs: Map<number, JobRow>) => Promise<void> } {
    const taken = [...this.#counts].sort(([a], [b]) => a - b);
    this.#counts.clear();
    return {
      counts: taken.map(([jobId, { count }]) => ({ jobId, count })),
      settle: async (jobs) => {
        for (const [jobId, { settles }] of taken) {
          for (const settle of settles) {
            const job = jobs.get(jobId);
            if (!job) throw new Error(`job ${jobId} vanished while its executions completed`);
            jobs.set(jobId, await settle(job));
          }
        }
      },
    };
  }

  /** Moves what is left, when no group of claims took it. */
  async flush(tx: Tx): Promise<void> {
    if (this.#counts.size === 0) return;
    const { counts, settle } = this.take();
    const { completedJobs } = await claimGroup(tx, [], NO_WALK, counts);
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
