import { sql } from 'kysely';
import { DISPATCHABLE_JOB_STATES } from '../domain/job-state.js';
import {
  dispatchableJob,
  eligibleFor,
  nodeArguments,
  pageColumns,
  type DispatchableJob,
} from './claim-looks.js';
import { compiledQuery } from './compiled-queries.js';
import type { DialectName, Executor } from './database.js';
import type { NodeRow } from './schema.js';

/*
 * Session affinity (docs/scheduling.md#session-affinity): a node that holds OpenJD sessions
 * names their jobs in its claim, and a claim prefers their queued tasks to those of other
 * jobs of the same priority, as Deadline Cloud keeps a worker on its job while no job of a
 * higher priority waits. A named job matches itself and its children (the steps of an OpenJD
 * job), the job named itself first. Only a claim that names jobs reads its page this way: a
 * node that names none runs the statements it always did (claim-looks.ts). PostgreSQL's
 * claims in a group read the same page inside drover_claim (migration 0044).
 */

/**
 * A claim's page of jobs when it prefers some: the ordinary page (dispatchableJobs: up to
 * `limit` jobs in priority-then-age order), and up to `limit` jobs of `prefer` (or children
 * of them) that the node may take work from, of at least the lowest priority on the
 * ordinary page (every job of a higher priority is on it), ordered together: priority
 * first, then the preferred (a job named itself before a child of one), then fair share and
 * age.
 */
export async function preferredPage(
  db: Executor,
  dialect: DialectName,
  node: NodeRow,
  pools: readonly string[],
  groups: readonly string[],
  prefer: readonly number[],
  excludeJobIds: readonly number[],
  limit: number,
): Promise<DispatchableJob[]> {
  const rows = await PREFERRED_PAGE[dialect].execute(
    db,
    ...nodeArguments(node, pools, groups),
    [...prefer],
    [...excludeJobIds],
    limit,
  );
  const seen = new Set<number>();
  return rows.filter((r) => !seen.has(Number(r.id)) && seen.add(Number(r.id))).map(dispatchableJob);
}

const PREFERRED_PAGE = {
  sqlite: preferredPageQuery('sqlite'),
  postgres: preferredPageQuery('postgres'),
};

function preferredPageQuery(dialect: DialectName) {
  const dispatchable = sql.raw(DISPATCHABLE_JOB_STATES.map((s) => `'${s}'`).join(', '));
  const indexed = sql.raw(dialect === 'sqlite' ? 'indexed by jobs_dispatchable' : '');
  // SQLite: `not indexed` still looks rows up by their rowid (the job's id).
  const byId = sql.raw(dialect === 'sqlite' ? 'not indexed' : '');
  const byParent = sql.raw(dialect === 'sqlite' ? 'indexed by jobs_parent' : '');
  return compiledQuery(
    (
      _db,
      nodeId: number,
      nodeName: string,
      resources: number[],
      pools: string[],
      groups: string[],
      hostCaps: string | null,
      prefer: number[],
      excludeJobIds: number[],
      limit: number,
    ) => {
      const list = (values: readonly (string | number)[]) => sql.join(values.map((v) => sql`${v}`));
      const eligible = eligibleFor(nodeId, nodeName, resources, pools, groups, hostCaps);
      const excluded =
        excludeJobIds.length > 0 ? sql`and j.id not in (${list(excludeJobIds)})` : sql``;
      const columns = sql`j.id, j.machine_limit, j.uses_limits, j.uses_capacity, j.priority,
          j.created_at, j.pool, j.user_name, j.project, j.tasks_running, j.pinned_retries`;
      // `n`: the ordinary page, as dispatchableJobs reads it. `f`: the preferred jobs, those
      // named through the primary key and their children through `jobs_parent` (0016), a few
      // rows whatever the queue; told so on SQLite, whose planner walked `jobs_priority`
      // through every job of at least the page's priority (5 ms a claim at 5,000 tasks).
      // A job on both is answered twice, the preferred row first: preferredPage keeps it.
      const common = sql`j.state in (${dispatchable}) and j.deleted_at is null
            and j.tasks_queued > 0 and j.priority >= (select min(m.priority) from n m)
            and ${eligible} ${excluded}`;
      return sql<DispatchableJob>`
        with n as (select ${columns}, 2 as named
          from jobs as j ${indexed}
          where j.state in (${dispatchable}) and j.deleted_at is null and j.tasks_queued > 0
            and ${eligible} ${excluded}
          order by j.priority desc, j.created_at, j.id
          limit ${limit}),
        f as (select * from (
            select ${columns}, 0 as named from jobs as j ${byId}
            where j.id in (${list(prefer)}) and ${common}
            union all
            select ${columns}, 1 as named from jobs as j ${byParent}
            where j.parent_id in (${list(prefer)}) and j.id not in (${list(prefer)})
              and ${common})
          order by priority desc, named, created_at, id
          limit ${limit})
        select ${pageColumns}, p.named
        from (select * from f union all select * from n) p
        left join pools po on po.name = p.pool and p.pool <> ''
        order by p.priority desc, p.named, fair_key,
          p.created_at, p.id
      `;
    },
  );
}
