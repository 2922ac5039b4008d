import { sql } from 'kysely';
import type { Executor } from './database.js';

/*
 * What ended executions used, summed per user, pool, job type or job over a time range:
 * the figures their nodes measured (executions.cpu_seconds…, migration 0021). An execution
 * counts in the range its end falls in. Wall time is the node's figure, or, for an
 * execution without one (a lost node, a worker from before 0021), its start to its end by
 * the server's clock.
 */

export type UsageGroup = 'user' | 'pool' | 'jobType' | 'job';

export interface UsageQuery {
  group: UsageGroup;
  from: number;
  to: number;
  /** Only the jobs of this user. */
  userName?: string | undefined;
  /** Only the executions of this job. */
  jobId?: number | undefined;
  limit: number;
  /** Groups to skip, in key order. */
  offset?: number;
}

export interface UsageRow {
  key: string;
  executions: number;
  cpuSeconds: number;
  wallSeconds: number;
  /** Null when no execution of the group reported GPU time. */
  gpuSeconds: number | null;
  peakMemoryBytes: number | null;
}

/** What a group is keyed by; jobs in id order, not as text. */
const KEYS: Record<UsageGroup, { by: ReturnType<typeof sql>; shown: ReturnType<typeof sql> }> = {
  user: { by: sql`j.user_name`, shown: sql`j.user_name` },
  pool: { by: sql`j.pool`, shown: sql`j.pool` },
  jobType: { by: sql`t.name`, shown: sql`t.name` },
  job: { by: sql`j.id`, shown: sql`cast(j.id as text)` },
};

const FIGURES = sql`count(*) as executions,
  coalesce(sum(e.cpu_seconds), 0) as cpu_seconds,
  coalesce(sum(coalesce(e.wall_seconds, (e.ended_at - e.started_at) / 1000.0, 0)), 0) as wall_seconds,
  sum(e.gpu_seconds) as gpu_seconds,
  max(e.peak_memory_bytes) as peak_memory_bytes`;

interface RawRow {
  key?: string;
  executions: number | string;
  cpu_seconds: number | string;
  wall_seconds: number | string;
  gpu_seconds: number | string | null;
  peak_memory_bytes: number | string | null;
}

/** Per group, in key order (at most `limit` groups), and the totals of the whole range. */
export async function usageByGroup(
  db: Executor,
  q: UsageQuery,
): Promise<{ rows: UsageRow[]; totals: Omit<UsageRow, 'key'> }> {
  const where = sql`e.ended_at >= ${q.from} and e.ended_at < ${q.to}${
    q.userName !== undefined ? sql` and j.user_name = ${q.userName}` : sql``
  }${q.jobId !== undefined ? sql` and e.job_id = ${q.jobId}` : sql``}`;
  // The job type is joined only when it is the key.
  const from = sql`executions e join jobs j on j.id = e.job_id${
    q.group === 'jobType' ? sql` join job_types t on t.id = j.job_type_id` : sql``
  }`;
  const { by, shown } = KEYS[q.group];
  const grouped = await sql<RawRow>`select ${shown} as key, ${FIGURES} from ${from}
    where ${where} group by ${by} order by ${by} limit ${q.limit} offset ${q.offset ?? 0}`.execute(
    db,
  );
  const total = await sql<RawRow>`select ${FIGURES} from ${from} where ${where}`.execute(db);
  const { executions, cpuSeconds, wallSeconds, gpuSeconds, peakMemoryBytes } = row(total.rows[0]!);
  return {
    rows: grouped.rows.map(row),
    totals: { executions, cpuSeconds, wallSeconds, gpuSeconds, peakMemoryBytes },
  };
}

function row(r: RawRow): UsageRow {
  const n = (v: number | string | null): number | null => (v === null ? null : Number(v));
  return {
    key: String(r.key ?? ''),
    executions: Number(r.executions),
    cpuSeconds: Number(r.cpu_seconds),
    wallSeconds: Number(r.wall_seconds),
    gpuSeconds: n(r.gpu_seconds),
    peakMemoryBytes: n(r.peak_memory_bytes),
  };
}
