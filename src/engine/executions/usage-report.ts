import { invalid } from '../../domain/errors.js';
import { usageByGroup, type UsageGroup, type UsageRow } from '../../store/usage.js';
import type { Principal } from '../accounts/accounts.js';
import type { EngineContext } from '../context.js';

/*
 * Usage over a time range, per user, pool, job type or job, from what the nodes measured of
 * each execution. A user sees the usage of their own jobs; an admin sees everyone's.
 */

/** The longest range one report may cover: ten years. */
export const MAX_USAGE_RANGE_MS = 3660 * 24 * 3600_000;
export const MAX_USAGE_GROUPS = 10_000;

export interface UsageFigures {
  executions: number;
  cpuHours: number;
  wallHours: number;
  gpuHours: number | null;
  peakMemoryBytes: number | null;
}

export interface UsageReport {
  group: UsageGroup;
  from: number;
  to: number;
  /** The user whose jobs alone are counted; undefined for an admin's report of everyone. */
  user: string | undefined;
  items: (UsageFigures & { key: string })[];
  totals: UsageFigures;
  /** More groups than `offset` + `limit` had usage: only `limit` of them, in key order, are listed. */
  truncated: boolean;
}

export async function usageReport(
  ctx: EngineContext,
  principal: Principal,
  query: {
    group: UsageGroup;
    from: number;
    to: number;
    limit: number;
    offset?: number;
    jobId?: number;
  },
): Promise<UsageReport> {
  if (!(query.from < query.to)) throw invalid('from must be before to');
  if (query.to - query.from > MAX_USAGE_RANGE_MS) {
    throw invalid('a usage report covers at most ten years (3660 days) from `from` to `to`');
  }
  const user = principal.role === 'admin' ? undefined : principal.name;
  const { rows, totals } = await usageByGroup(ctx.db, {
    ...query,
    userName: user,
    limit: query.limit + 1,
  });
  return {
    ...query,
    user,
    items: rows.slice(0, query.limit).map((r) => ({ key: r.key, ...figures(r) })),
    totals: figures(totals),
    truncated: rows.length > query.limit,
  };
}

/** Hours to six decimals (3.6 ms): the sums of both databases then agree. */
function figures(r: Omit<UsageRow, 'key'>): UsageFigures {
  const hours = (seconds: number): number => Math.round((seconds / 3600) * 1e6) / 1e6;
  return {
    executions: r.executions,
    cpuHours: hours(r.cpuSeconds),
    wallHours: hours(r.wallSeconds),
    gpuHours: r.gpuSeconds === null ? null : hours(r.gpuSeconds),
    peakMemoryBytes: r.peakMemoryBytes,
  };
}
