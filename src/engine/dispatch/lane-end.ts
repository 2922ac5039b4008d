import {
  claimGroup,
  type ClaimWalk,
  type GroupClaim,
  type GroupClaimResult,
} from '../../store/claim-groups.js';
import type { Tx } from '../../store/database.js';
import type { JobRow } from '../../store/schema.js';
import type { CompletedExecution, ReportedCompletion } from '../../store/task-completions.js';
import type { Emit, EngineContext } from '../context.js';
import { settleFreshJobs } from '../tasks/task-actions.js';

/** What the lane's statement (LaneEnd.run) wrote and took. */
export interface LaneStatement {
  /** Each gathered claim's result, in order. */
  claims: GroupClaimResult[];
  /** The finishes it recorded (the reports it did not take are the caller's). */
  finished: CompletedExecution[];
  /** The rows of the jobs whose counters it moved for completed tasks. */
  completedJobs: JobRow[];
  /** The time the claims walked the queue at. */
  now: number;
}

/**
 * PostgreSQL: the end of a write-lane transaction, where its jobs' counters move (migration
 * 0030), so that the transaction holds their rows for its last statement and its commit
 * only: another transaction that needs them (a replica's lane, an operator's action) waits
 * no longer than that (write-lane.ts).
 *
 * The lane's claims are gathered here before anything is written (`claimLater`), so that
 * one statement (`run`, claimGroup) can record the transaction's finishes, move the
 * counters and take the claims: the finishes run it when they have nothing to do first
 * (execution-batches.ts), else the claims do. Finishes written by a statement of their
 * own (when some report must be judged one by one before the claims) leave their counts
 * here (`completed`), and the claims' statement, or `flush` when the transaction claimed
 * nothing, moves them, through the same function, in the same order. Then the jobs are
 * settled on their rows as the counters left them, together (settleFreshJobs): the jobs
 * that finish end in one statement.
 */
export class LaneEnd {
  /** Tasks completed whose jobs' counters have not moved yet. */
  readonly #done = new Map<number, number[]>();
  /** Tasks whose jobs' counters moved, whose jobs are not settled yet. */
  readonly #moved = new Map<number, number[]>();
  /** The rows of the jobs in #moved as the counters left them. */
  readonly #rows = new Map<number, JobRow>();
  #claims: { claims: readonly GroupClaim[]; walk: (now: number) => ClaimWalk } | undefined;
  #ran: Promise<LaneStatement> | undefined;

  constructor(
    private readonly ctx: EngineContext,
    private readonly tx: Tx,
    private readonly emit: Emit,
  ) {}

  /** The transaction's claims, for `run`; before anything is written. */
  claimLater(claims: readonly GroupClaim[], walk: (now: number) => ClaimWalk): void {
    this.#claims = { claims, walk };
  }

  /**
   * The lane's statement, once: `finishes` recorded, the counters of every completed task
   * moved, the gathered claims taken. Only its first caller may give finishes.
   */
  run(finishes: readonly ReportedCompletion[] = []): Promise<LaneStatement> {
    if (this.#ran) {
      if (finishes.length > 0) throw new Error("the lane's statement has run: finishes too late");
      return this.#ran;
    }
    return (this.#ran = this.#run(finishes));
  }

  async #run(finishes: readonly ReportedCompletion[]): Promise<LaneStatement> {
    const now = this.ctx.clock();
    const counts = this.#takeCounts();
    const { claims, completedJobs, finished } = await claimGroup(
      this.tx,
      this.#claims?.claims ?? [],
      this.#claims?.walk(now) ?? { ...NO_WALK, now },
      counts,
      finishes,
    );
    for (const { execution, taskMoved } of finished) {
      if (taskMoved) add(this.#moved, execution.job_id, [execution.task_id]);
    }
    for (const job of completedJobs) this.#rows.set(job.id, job);
    return { claims, finished, completedJobs, now };
  }

  /** These tasks of the job completed; the job is settled once its counters have moved. */
  completed(jobId: number, taskIds: readonly number[]): void {
    add(this.#done, jobId, taskIds);
  }

  /** The counts still to move, in job id order; taken, they are settled once moved. */
  #takeCounts(): { jobId: number; count: number }[] {
    const taken = [...this.#done].sort(([a], [b]) => a - b);
    this.#done.clear();
    for (const [jobId, done] of taken) add(this.#moved, jobId, done);
    return taken.map(([jobId, done]) => ({ jobId, count: done.length }));
  }

  /**
   * Settles the jobs whose counters moved, on `jobs` (their rows as the transaction now has
   * them) or the rows the counters left; `jobs` gains the rows settling wrote.
   */
  async settle(jobs: Map<number, JobRow> = this.#rows): Promise<void> {
    if (this.#moved.size === 0) return;
    const fresh = [...this.#moved].map(([jobId, done]) => {
      const job = jobs.get(jobId) ?? this.#rows.get(jobId);
      if (!job) throw new Error(`job ${jobId} vanished while its executions completed`);
      return { job, done };
    });
    this.#moved.clear();
    for (const [id, job] of await settleFreshJobs(this.ctx, this.tx, this.emit, fresh)) {
      jobs.set(id, job);
    }
  }

  /** Moves what is left, when no statement of claims took it, and settles. */
  async flush(): Promise<void> {
    if (this.#done.size > 0) {
      const counts = this.#takeCounts();
      const { completedJobs } = await claimGroup(this.tx, [], NO_WALK, counts);
      for (const job of completedJobs) this.#rows.set(job.id, job);
    }
    await this.settle();
  }
}

function add(map: Map<number, number[]>, jobId: number, taskIds: readonly number[]): void {
  const ids = map.get(jobId);
  if (ids) ids.push(...taskIds);
  else map.set(jobId, [...taskIds]);
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
