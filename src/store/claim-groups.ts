import { sql, type RawBuilder } from 'kysely';
import { compiledQuery } from './compiled-queries.js';
import type { Executor } from './database.js';
import type { ExecutionRow, JobRow, TaskRow } from './schema.js';
import {
  completedExecution,
  LIVE_COMPLETIONS,
  reportedColumnsOf,
  type CompletedExecution,
  type CompletedExecutionRow,
  type ReportedColumns,
  type ReportedCompletion,
} from './task-completions.js';

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
 *
 * Given `finishes`, the same statement first records those successes as
 * completeLiveExecutionsLeavingCounters does (the reports it does not take are left to the
 * caller), and their tasks count with `completed`: `finished` answers what it recorded, and
 * `completedJobs` holds their jobs too. The write lane sent the finishes and the claims of a
 * transaction as two statements, and each round trip waits for a turn of a busy server's
 * event loop: in bench/peer.ts (single-task protocol, 50 nodes, 6,000 tasks) PostgreSQL ran
 * the finishes in 0.64 ms on average, and the lane had their answer 2.25 ms after it sent
 * them. One statement: 1.9 statements per task instead of 2.2 (bench/dispatch.ts), and
 * 1,249–1,308 tasks/s against 1,203–1,219 before (bench/peer.ts, alternated, one machine).
 * drover_claim is VOLATILE, so its statements see what the finishes wrote (the slots
 * and tasks they freed); its arguments are the finishes' counts, so the finishes run to
 * their end before it starts.
 */
export async function claimGroup(
  tx: Executor,
  claims: readonly GroupClaim[],
  walk: ClaimWalk,
  completed: readonly CompletedCounts[] = [],
  finishes: readonly ReportedCompletion[] = [],
): Promise<{
  claims: GroupClaimResult[];
  completedJobs: JobRow[];
  finished: CompletedExecution[];
}> {
  const args = [
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
  ] as const;
  const rows =
    finishes.length === 0
      ? await CLAIM_GROUP.execute(tx, ...args)
      : await CLAIM_GROUP_FINISHING.execute(tx, ...args, ...reportedColumnsOf(finishes));
  const finished = ((rows[0]?.o_finished ?? []) as CompletedExecutionRow[]).map(completedExecution);
  // Row 0 holds the row of every job claimed from or completed, once (migration 0047); the
  // claims follow in order, naming their jobs by id.
  const jobs = new Map(((rows[0]?.o_taken ?? []) as JobRow[]).map((j) => [j.id, j]));
  const completedIds = [
    ...completed.map((c) => c.jobId),
    ...finished.filter((f) => f.taskMoved).map((f) => f.execution.job_id),
  ];
  const completedJobs = [...new Set(completedIds)]
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
  return { claims: results, completedJobs, finished };
}

interface ClaimGroupRow {
  o_found: boolean;
  o_prior_state: string | null;
  o_enabled: number;
  o_contended: boolean;
  /** Row 0: job rows. A claim's row: per job it took tasks of, in the order taken. */
  o_taken: unknown[];
  /** Row 0 of CLAIM_GROUP_FINISHING: the executions the finishes completed. */
  o_finished?: unknown[] | null;
}

interface ClaimRow extends ClaimGroupRow {
  o_taken: { j: number; x: { e: ExecutionRow; t: TaskRow; q: number }[] }[];
}

type ClaimArgs = [
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
];

/** ClaimArgs' length (its type checks it); CLAIM_GROUP_FINISHING's later arguments are finishes. */
const CLAIM_ARG_COUNT: ClaimArgs['length'] = 13;

/** drover_claim's call; the counters it moves are `doneJobIds` and `doneCounts`. */
const CLAIM_CALL = (
  [
    nodeIds,
    maxes,
    starts,
    now,
    leaseExpiresAt,
    heartbeatBefore,
    maxClaim,
    maxSkippedJobs,
    jobsPerLook,
    ,
    ,
    preferClaims,
    preferJobs,
  ]: ClaimArgs,
  doneJobIds: RawBuilder<unknown>,
  doneCounts: RawBuilder<unknown>,
) => sql`drover_claim(cast(${nodeIds} as bigint[]), cast(${maxes} as int[]),
        cast(${starts} as boolean[]), cast(${now} as bigint),
        cast(${leaseExpiresAt} as bigint), cast(${heartbeatBefore} as bigint),
        cast(${maxClaim} as int), cast(${maxSkippedJobs} as int), cast(${jobsPerLook} as int),
        ${doneJobIds}, ${doneCounts},
        cast(${preferClaims} as int[]), cast(${preferJobs} as bigint[]))`;

const CLAIM_GROUP = compiledQuery(
  (_db, ...args: ClaimArgs) => sql<ClaimGroupRow>`
      select * from ${CLAIM_CALL(
        args,
        sql`cast(${args[9]} as bigint[])`,
        sql`cast(${args[10]} as int[])`,
      )}
      order by o_claim
    `,
);

/*
 * The finishes (LIVE_COMPLETIONS) and the claims in one statement. The counts drover_claim
 * moves are the given ones and the finished tasks', per job in id order (`d`); reading them
 * in its arguments makes the finishes run to their end first.
 */
const CLAIM_GROUP_FINISHING = compiledQuery((_db, ...args: [...ClaimArgs, ...ReportedColumns]) => {
  const claim = args.slice(0, CLAIM_ARG_COUNT) as ClaimArgs;
  const finishes = args.slice(CLAIM_ARG_COUNT) as unknown as ReportedColumns;
  return sql<ClaimGroupRow>`
      with ${LIVE_COMPLETIONS(claim[3], finishes)},
      d as (
        select job_id, sum(n)::int as n from (
          select x.job_id, count(*) as n from x where x.task_id in (select id from t)
          group by x.job_id
          union all
          select * from unnest(cast(${claim[9]} as bigint[]), cast(${claim[10]} as int[]))
        ) c group by job_id
      )
      select c.*, case when c.o_claim = 0 then (
          select coalesce(json_agg(f order by f.id), '[]')
          from (select x.*, x.task_id in (select id from t) as task_moved from x) f
        ) end as o_finished
      from ${CLAIM_CALL(
        claim,
        sql`array(select job_id from d order by job_id)`,
        sql`array(select n from d order by job_id)`,
      )} c
      order by c.o_claim
    `;
});
