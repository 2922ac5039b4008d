import { sql } from 'kysely';
import { compiledQuery } from './compiled-queries.js';
import type { Executor } from './database.js';
import type { ExecutionRow, JobRow, TaskRow } from './schema.js';

/** One node's claim in a group of claims written together (PostgreSQL: claimGroup). */
export interface GroupClaim {
  nodeId: number;
  /** Up to this many tasks (at most the node's free slots, and at most `maxClaim`). */
  max: number;
  /** The executions start RUNNING. */
  start: boolean;
  /** The jobs it prefers (session affinity, migration 0044); empty: none. */
  prefer?: readonly number[];
}

/** What one claim of a group saw and took. */
export interface GroupClaimResult {
  /** The node exists. */
  found: boolean;
  /** The node's state before the claim (a claim marks it ONLINE). */
  priorState: string | null;
  enabled: boolean;
  /** It passed over queued tasks or a job that other transactions held. */
  contended: boolean;
  taken: { execution: ExecutionRow; task: TaskRow; job: JobRow; queuedAt: number }[];
}

/** The bounds of a claim's walk of the queue (engine/dispatcher.ts). */
export interface ClaimWalk {
  now: number;
  leaseExpiresAt: number;
  /** A node whose recorded heartbeat is older than this is marked alive again. */
  heartbeatBefore: number;
  maxClaim: number;
  maxSkippedJobs: number;
  jobsPerLook: number;
}

/** Tasks of a job that the transaction completed, whose counters have not moved yet. */
export interface CompletedCounts {
  jobId: number;
  count: number;
}

/**
 * PostgreSQL: every claim of a group in one round trip, through `drover_claim` (migration
 * 0015, as rewritten in 0019, 0030, 0039, 0044, 0045, 0047, 0048 and 0050), which walks
 * the queue for each claim in turn as the dispatcher's claim does statement by statement
 * on SQLite; then moves the counters of every job it claimed from or that `completed`
 * names, in id order, and answers the rows of the latter as they now are.
 */
export async function claimGroup(
  tx: Executor,
  claims: readonly GroupClaim[],
  walk: ClaimWalk,
  completed: readonly CompletedCounts[] = [],
): Promise<{ claims: GroupClaimResult[]; completedJobs: JobRow[] }> {
  const rows = await CLAIM_GROUP.execute(
    tx,
    claims.map((c) => c.nodeId),
    claims.map((c) => c.max),
    claims.map((c) => c.start),
    walk.now,
    walk.leaseExpiresAt,
    walk.heartbeatBefore,
    walk.maxClaim,
    walk.maxSkippedJobs,
    walk.jobsPerLook,
    completed.map((c) => c.jobId),
    completed.map((c) => c.count),
    claims.flatMap((c, i) => (c.prefer ?? []).map(() => i + 1)),
    claims.flatMap((c) => c.prefer ?? []),
  );
  // Row 0 holds the row of every job claimed from or completed, once (migration 0047); the
  // claims follow in order, naming their jobs by id.
  const jobs = new Map(((rows[0]?.o_taken ?? []) as JobRow[]).map((j) => [j.id, j]));
  const completedJobs = [...new Set(completed.map((c) => c.jobId))]
    .map((id) => jobs.get(id))
    .filter((j) => j !== undefined);
  const results = (rows.slice(1) as ClaimRow[]).map((r) => ({
    found: r.o_found,
    priorState: r.o_prior_state,
    enabled: r.o_enabled === 1,
    contended: r.o_contended,
    taken: r.o_taken.flatMap(({ j, x }) =>
      x.map(({ e, t, q }) => ({ execution: e, task: t, job: jobs.get(j)!, queuedAt: q })),
    ),
  }));
  return { claims: results, completedJobs };
}

interface ClaimGroupRow {
  o_found: boolean;
  o_prior_state: string | null;
  o_enabled: number;
  o_contended: boolean;
  /** Row 0: job rows. A claim's row: per job it took tasks of, in the order taken. */
  o_taken: unknown[];
}

interface ClaimRow extends ClaimGroupRow {
  o_taken: { j: number; x: { e: ExecutionRow; t: TaskRow; q: number }[] }[];
}

const CLAIM_GROUP = compiledQuery(
  (
    _db,
    nodeIds: number[],
    maxes: number[],
    starts: boolean[],
    now: number,
    leaseExpiresAt: number,
    heartbeatBefore: number,
    maxClaim: number,
    maxSkippedJobs: number,
    jobsPerLook: number,
    completedJobIds: number[],
    completedCounts: number[],
    preferClaims: number[],
    preferJobs: number[],
  ) => sql<ClaimGroupRow>`
      select * from drover_claim(cast(${nodeIds} as bigint[]), cast(${maxes} as int[]),
        cast(${starts} as boolean[]), cast(${now} as bigint),
        cast(${leaseExpiresAt} as bigint), cast(${heartbeatBefore} as bigint),
        cast(${maxClaim} as int), cast(${maxSkippedJobs} as int), cast(${jobsPerLook} as int),
        cast(${completedJobIds} as bigint[]), cast(${completedCounts} as int[]),
        cast(${preferClaims} as int[]), cast(${preferJobs} as bigint[]))
      order by o_claim
    `,
);
