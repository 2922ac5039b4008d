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

/**
 * PostgreSQL: every claim of a group in one round trip, through `drover_claim` (migration
 * 0015, as rewritten in 0019), which walks the queue for each claim in turn exactly as the
 * dispatcher's claim does statement by statement on SQLite.
 */
export async function claimGroup(
  tx: Executor,
  claims: readonly GroupClaim[],
  walk: ClaimWalk,
): Promise<GroupClaimResult[]> {
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
  );
  return rows.map((r) => ({
    found: r.o_found,
    priorState: r.o_prior_state,
    enabled: r.o_enabled === 1,
    contended: r.o_contended,
    taken: r.o_taken.flatMap(({ j, x }) =>
      x.map(({ e, t, q }) => ({ execution: e, task: t, job: j, queuedAt: q })),
    ),
  }));
}

interface ClaimGroupRow {
  o_found: boolean;
  o_prior_state: string | null;
  o_enabled: number;
  o_contended: boolean;
  /** Per job it took tasks of, in the order taken (migration 0019). */
  o_taken: { j: JobRow; x: { e: ExecutionRow; t: TaskRow; q: number }[] }[];
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
  ) => sql<ClaimGroupRow>`
      select * from drover_claim(cast(${nodeIds} as bigint[]), cast(${maxes} as int[]),
        cast(${starts} as boolean[]), cast(${now} as bigint),
        cast(${leaseExpiresAt} as bigint), cast(${heartbeatBefore} as bigint),
        cast(${maxClaim} as int), cast(${maxSkippedJobs} as int), cast(${jobsPerLook} as int))
      order by o_claim
    `,
);
