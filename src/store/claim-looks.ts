import { sql, type RawBuilder } from 'kysely';
import { LIVE_EXECUTION_STATES } from '../domain/execution-state.js';
import { DISPATCHABLE_JOB_STATES } from '../domain/job-state.js';
import { compiledQuery } from './compiled-queries.js';
import type { DialectName, Executor, Tx } from './database.js';
import { limitsOpen } from './limits.js';
import type { NodeRow, TaskRow } from './schema.js';

/*
 * What a claim reads: the node and its slots in use, which jobs it may take work from, and
 * which of their tasks. A claim reads a few index entries whatever the depth of the queue:
 * jobs are walked in dispatch order through `jobs_dispatchable` (only the jobs that can hand
 * out work are in it), and a job's queued tasks in task order through `tasks_job_state`.
 * The older single query joined every queued task to its job and sorted them all: 8–12.5 ms
 * per acquire with one job of 100,000 tasks on SQLite, and a 13 MB external sort (86 ms) on
 * PostgreSQL. The writes that hand the tasks out are in task-claims.ts; PostgreSQL's claims
 * of a transaction go in one call, claim-groups.ts.
 */

/** A job the node may take work from, with what the claim must re-check under its lock. */
export interface DispatchableJob {
  id: number;
  machine_limit: number;
  /** 1: it names limits, whose room the claim counts again (limits.ts). */
  uses_limits: number;
  /** 1: it asks cpus, memory or gpus, whose room on the node the claim counts (0035). */
  uses_capacity: number;
  /** 1: some of its tasks are retries bound to a node (0039): read them with queuedTasksFor. */
  pinned_retries: number;
  /** Its pool's mode (0037): the walk's order within a page depends on running counts. */
  mode: 'priority' | 'balanced' | 'weighted';
  pool: string;
  user_name: string;
  /** Whose share it counts against in a weighted pool: its user's, or its project's (0042). */
  share_by: 'user' | 'project';
  /** The share's holder: the job's user, or its project in a pool shared by project. */
  holder: string;
  /** Weighted pools: the most tasks its holder may run in the pool; null: no cap. */
  burst: number | null;
  priority: number;
  created_at: number;
  /** The page's order within a priority (0 in a priority pool; see dispatchableJobsQuery). */
  fair_key: number;
}

/**
 * Up to `limit` jobs with queued tasks that this node may run, best first: priority (higher
 * first), then submission time. The node must be in the job's pool and group (empty means
 * any), cover its resources, be admitted by its allow/deny list, and the job must be below
 * its machine limit unless the node already works on it, every limit it names must have
 * room for the node (limits.ts), and the node must not be blocked from it (node-blocks.ts).
 * The caller re-checks the machine limit under the job's lock, and the limits' room.
 */
export async function dispatchableJobs(
  db: Executor,
  dialect: DialectName,
  node: NodeRow,
  pools: readonly string[],
  groups: readonly string[],
  excludeJobIds: readonly number[],
  limit: number,
): Promise<DispatchableJob[]> {
  const rows = await DISPATCHABLE_JOBS[dialect].execute(
    db,
    ...nodeArguments(node, pools, groups),
    [...excludeJobIds],
    limit,
  );
  return rows.map(dispatchableJob);
}

/**
 * The first job of each share holder of a weighted pool, and every job of a balanced pool
 * (each job its own holder), among the next `window` jobs the node may take, after those
 * `excludeJobIds` names (the claim's page and what it passed over), in the claim's order.
 * The page holds the oldest jobs of the queue: without these, a user (project) further below
 * their share whose jobs all lie beyond the page, or a balanced pool's fifth job, waited
 * until the jobs ahead of them drained. Bounded: `window` index entries of jobs_dispatchable.
 */
export async function fairHeads(
  db: Executor,
  dialect: DialectName,
  node: NodeRow,
  pools: readonly string[],
  groups: readonly string[],
  excludeJobIds: readonly number[],
  window: number,
): Promise<DispatchableJob[]> {
  const rows = await FAIR_HEADS[dialect].execute(
    db,
    ...nodeArguments(node, pools, groups),
    [...excludeJobIds],
    window,
  );
  return rows.map(dispatchableJob);
}

/** What the page statements take of the node (an empty list as one '': any). */
export function nodeArguments(
  node: NodeRow,
  pools: readonly string[],
  groups: readonly string[],
): [number, string, number[], string[], string[], string | null] {
  return [
    node.id,
    node.name,
    [node.cpus, node.mem, node.disk, node.gpus],
    pools.length ? [...pools] : [''],
    groups.length ? [...groups] : [''],
    node.host_caps ?? null,
  ];
}

/** The claim's order: priority (higher first), the fair key, then age. */
export function inClaimOrder(jobs: DispatchableJob[]): DispatchableJob[] {
  return jobs.sort(
    (a, b) =>
      b.priority - a.priority ||
      a.fair_key - b.fair_key ||
      a.created_at - b.created_at ||
      a.id - b.id,
  );
}

export function dispatchableJob(r: DispatchableJob): DispatchableJob {
  return {
    id: Number(r.id),
    machine_limit: Number(r.machine_limit),
    uses_limits: Number(r.uses_limits),
    uses_capacity: Number(r.uses_capacity),
    pinned_retries: Number(r.pinned_retries),
    mode: r.mode,
    pool: r.pool,
    user_name: r.user_name,
    share_by: r.share_by,
    holder: r.holder,
    burst: r.burst === null ? null : Number(r.burst),
    priority: Number(r.priority),
    created_at: Number(r.created_at),
    fair_key: Number(r.fair_key),
  };
}

/** A weighted pool's share holder: the job's user or, shared by project, its project (0042). */
const holder = sql`(case when po.share_by = 'project' then p.project else p.user_name end)`;

/**
 * What a claim reads of each job `p` of its page, joined to its pool `po` (DispatchableJob).
 * The page is read in index order, and ordered again by `fair_key` (migration 0037): 0 for
 * a job of a priority pool, so its page keeps its order.
 */
export const pageColumns = sql`p.id, p.machine_limit, p.uses_limits, p.uses_capacity,
          p.pinned_retries, p.pool, p.user_name, coalesce(po.mode, 'priority') as mode,
          coalesce(po.share_by, 'user') as share_by, ${holder} as holder,
          case when po.mode = 'weighted' then (select s.burst from pool_shares s
            where s.pool = p.pool and s.user_name = ${holder}) end as burst,
          p.priority, p.created_at,
          case po.mode
            when 'balanced' then p.tasks_running
            when 'weighted' then (case when po.share_by = 'project'
                then ${projectRunningInPool(sql`p.pool`, sql`p.project`)}
                else ${userRunningInPool(sql`p.pool`, sql`p.user_name`)} end)
              * 1.0 / coalesce((select s.share from pool_shares s
                where s.pool = p.pool and s.user_name = ${holder}), 1)
            else 0 end as fair_key`;

const DISPATCHABLE_JOBS = {
  sqlite: dispatchableJobsQuery('sqlite', false),
  postgres: dispatchableJobsQuery('postgres', false),
};

const FAIR_HEADS = {
  sqlite: dispatchableJobsQuery('sqlite', true),
  postgres: dispatchableJobsQuery('postgres', true),
};

/** The page (or, `heads`, the first job per weighted share holder of a window after it). */
function dispatchableJobsQuery(dialect: DialectName, heads: boolean) {
  // The states are literals, not parameters: a partial index serves only a query whose
  // predicate visibly implies the index's, and PostgreSQL's generic plan for a prepared
  // statement cannot see through parameters. SQLite's planner, even with statistics,
  // preferred `jobs_deleted_at` and sorted every dispatchable job (a temp B-tree per claim),
  // so it is told which index to walk.
  const dispatchable = sql.raw(DISPATCHABLE_JOB_STATES.map((s) => `'${s}'`).join(', '));
  const indexed = sql.raw(dialect === 'sqlite' ? 'indexed by jobs_dispatchable' : '');
  return compiledQuery(
    (
      _db,
      nodeId: number,
      nodeName: string,
      resources: number[],
      pools: string[],
      groups: string[],
      hostCaps: string | null,
      excludeJobIds: number[],
      limit: number,
    ) => {
      const list = (values: readonly (string | number)[]) => sql.join(values.map((v) => sql`${v}`));
      // The page is read in index order, as before, and ordered again by fair share
      // (migration 0037): a job of a priority pool sorts by 0, so its page keeps its order.
      const walk = sql`(select j.id, j.machine_limit, j.uses_limits, j.uses_capacity, j.priority,
          j.created_at, j.pool, j.user_name, j.project, j.tasks_running, j.pinned_retries
          from jobs as j ${indexed}
        where j.state in (${dispatchable}) and j.deleted_at is null and j.tasks_queued > 0
          and ${eligibleFor(nodeId, nodeName, resources, pools, groups, hostCaps)}
          ${excludeJobIds.length > 0 ? sql`and j.id not in (${list(excludeJobIds)})` : sql``}
        order by j.priority desc, j.created_at, j.id
        limit ${limit}) p
        left join pools po on po.name = p.pool and p.pool <> ''`;
      if (heads) {
        return sql<DispatchableJob>`
          select * from (select ${pageColumns}, row_number() over (partition by p.pool,
                case when po.mode = 'balanced' then cast(p.id as text) else ${holder} end
              order by p.priority desc, p.created_at, p.id) as head
            from ${walk} where po.mode in ('weighted', 'balanced')) h
          where h.head = 1`;
      }
      return sql<DispatchableJob>`
        select ${pageColumns} from ${walk}
        order by p.priority desc, fair_key, p.created_at, p.id
      `;
    },
  );
}

/**
 * Whether node `nodeId` may take work from job `j` (besides its state and queued tasks):
 * pool, group, resources, host requirement, node list, machine limit, limits and blocks, as
 * the comment of dispatchableJobs says. The host requirement (migration 0045) is one null
 * test for a job without one; `drover_host_match` is store/host-match-function.ts.
 */
export function eligibleFor(
  nodeId: number,
  nodeName: string,
  [cpus, mem, disk, gpus]: number[],
  pools: string[],
  groups: string[],
  hostCaps: string | null,
) {
  const live = sql.raw(LIVE_EXECUTION_STATES.map((s) => `'${s}'`).join(', '));
  const list = (values: readonly (string | number)[]) => sql.join(values.map((v) => sql`${v}`));
  const listed = sql`exists (select 1 from job_node_list l where l.job_id = j.id and l.node_name = ${nodeName})`;
  return sql`(j.pool = '' or j.pool in (${list(pools)}))
          and (j.grp = '' or j.grp in (${list(groups)}))
          and j.req_cpus <= ${cpus} and j.req_mem <= ${mem}
          and j.req_disk <= ${disk} and j.req_gpus <= ${gpus}
          and (j.req_host is null
            or drover_host_match(j.req_host, ${hostCaps}, ${cpus}, ${mem}, ${gpus}, ${disk}))
          and (j.node_list_mode = 'NONE'
            or (j.node_list_mode = 'ALLOW' and ${listed})
            or (j.node_list_mode = 'DENY' and not ${listed}))
          and (j.machine_limit = 0
            or exists (select 1 from executions x
              where x.job_id = j.id and x.node_id = ${nodeId} and x.state in (${live}))
            or (select count(distinct x.node_id) from executions x
              where x.job_id = j.id and x.node_id <> ${nodeId} and x.state in (${live})
                and (j.machine_limit_release < 0 or x.progress < j.machine_limit_release))
              < j.machine_limit)
          and ${limitsOpen(nodeId, nodeName)}
          and (j.blocked_nodes = 0 or not exists (select 1 from job_node_failures b
            where b.job_id = j.id and b.node_id = ${nodeId} and b.blocked = 1))`;
}

/** Running tasks of a user's jobs in a pool, from the jobs' counters (index jobs_pool_user). */
export function userRunningInPool(pool: RawBuilder<unknown>, user: RawBuilder<unknown>) {
  return sql<number>`(select coalesce(sum(o.tasks_running), 0) from jobs o
    where o.pool = ${pool} and o.user_name = ${user} and o.deleted_at is null)`;
}

/** Running tasks of a project's jobs in a pool (index jobs_pool_project, migration 0042). */
export function projectRunningInPool(pool: RawBuilder<unknown>, project: RawBuilder<unknown>) {
  return sql<number>`(select coalesce(sum(o.tasks_running), 0) from jobs o
    where o.pool = ${pool} and o.project = ${project} and o.deleted_at is null)`;
}

/**
 * SQLite: whether any job that can hand out work has a machine limit, a node list, limits or
 * blocked nodes, so that which jobs a node may take depends on the node itself (read through
 * `jobs_node_specific`, migrations 0019, 0025, 0026: one entry, not a walk of the queue).
 */
export async function nodeSpecificJobsExist(tx: Executor): Promise<boolean> {
  return (await NODE_SPECIFIC_JOB.executeTakeFirst(tx)) !== undefined;
}

const NODE_SPECIFIC_JOB = compiledQuery(
  () => sql<{ id: number }>`
    select id from jobs indexed by jobs_node_specific
    where state in ('QUEUED', 'RUNNING') and deleted_at is null
      and (machine_limit > 0 or node_list_mode <> 'NONE' or uses_limits <> 0
        or blocked_nodes > 0)
    limit 1
  `,
);

/**
 * Up to `limit` QUEUED tasks of one job in task order. PostgreSQL locks them and skips
 * those another claim has locked (FOR UPDATE SKIP LOCKED), so claims never wait on each
 * other's tasks; SQLite runs one transaction at a time.
 */
export async function queuedTasksOf(
  tx: Tx,
  dialect: DialectName,
  jobId: number,
  limit: number,
): Promise<TaskRow[]> {
  return QUEUED_TASKS[dialect].execute(tx, jobId, limit);
}

function queuedTasksQuery(dialect: DialectName) {
  return compiledQuery((db, jobId: number, limit: number) => {
    const q = db
      .selectFrom('tasks')
      .selectAll()
      .where('job_id', '=', jobId)
      .where('state', '=', 'QUEUED')
      .orderBy('task_index')
      .limit(limit);
    return dialect === 'postgres' ? q.forUpdate().skipLocked() : q;
  });
}

const QUEUED_TASKS = { sqlite: queuedTasksQuery('sqlite'), postgres: queuedTasksQuery('postgres') };

/**
 * queuedTasksOf for a job with retries bound to a node (migration 0039): only the tasks
 * open to this node. A SAME retry is open to its node, or to any once that node could not
 * take the job (gone, disabled, offline, out of its pool, group or node list, blocked); an
 * OTHER retry to any node but its own, or to its own once no other could take the job.
 */
export async function queuedTasksFor(
  tx: Tx,
  dialect: DialectName,
  jobId: number,
  nodeId: number,
  limit: number,
): Promise<TaskRow[]> {
  return QUEUED_TASKS_FOR[dialect].execute(tx, jobId, nodeId, limit);
}

function queuedTasksForQuery(dialect: DialectName) {
  return compiledQuery(
    (_db, jobId: number, nodeId: number, limit: number) => sql<TaskRow>`
      select t.* from tasks t
      where t.job_id = ${jobId} and t.state = 'QUEUED' and ${openTo(dialect, nodeId)}
      order by t.task_index limit ${limit}
      ${sql.raw(dialect === 'postgres' ? 'for update skip locked' : '')}
    `,
  );
}

/** Whether task `t` (its binding to a node, if any) is open to the node. */
export function openTo(dialect: DialectName, nodeId: number) {
  return dialect === 'postgres'
    ? sql<boolean>`(t.retry_node_id is null
        or drover_retry_open(t.job_id, t.retry_node_id, t.retry_node_rule, ${nodeId}))`
    : sql<boolean>`(t.retry_node_id is null or case when t.retry_node_rule = 'SAME'
          then t.retry_node_id = ${nodeId}
            or not exists (select 1 from nodes n where n.id = t.retry_node_id and ${couldTake})
          else t.retry_node_id <> ${nodeId}
            or not exists (select 1 from nodes n where n.id <> ${nodeId} and ${couldTake}) end)`;
}

/** SQLite: whether node `n` could take task `t`'s job at all (drover_retry_open's test). */
const couldTake = sql`n.enabled = 1 and n.state = 'ONLINE' and exists (select 1 from jobs j
  where j.id = t.job_id
    and (j.pool = '' or j.pool in (select value from json_each(n.pools_json)))
    and (j.grp = '' or j.grp in (select value from json_each(n.groups_json)))
    and j.req_cpus <= n.cpus and j.req_mem <= n.mem and j.req_disk <= n.disk
    and j.req_gpus <= n.gpus
    and (j.req_host is null
      or drover_host_match(j.req_host, n.host_caps, n.cpus, n.mem, n.gpus, n.disk))
    and (j.node_list_mode = 'NONE'
      or (j.node_list_mode = 'ALLOW') = exists (select 1 from job_node_list l
        where l.job_id = j.id and l.node_name = n.name))
    and not exists (select 1 from job_node_failures b
      where b.job_id = j.id and b.node_id = n.id and b.blocked = 1))`;

const QUEUED_TASKS_FOR = {
  sqlite: queuedTasksForQuery('sqlite'),
  postgres: queuedTasksForQuery('postgres'),
};

/**
 * The nodes, each with how many live executions it holds (its slots in use), in one read:
 * the claims of a transaction read their nodes together.
 */
export async function nodesForClaim(
  db: Executor,
  nodeIds: readonly number[],
): Promise<Map<number, { node: NodeRow; live: number }>> {
  const found = new Map<number, { node: NodeRow; live: number }>();
  if (nodeIds.length === 0) return found;
  for (const { live, ...node } of await NODES_FOR_CLAIM.execute(db, [...nodeIds])) {
    found.set(node.id, { node, live: Number(live ?? 0) });
  }
  return found;
}

const NODES_FOR_CLAIM = compiledQuery((db, nodeIds: number[]) =>
  db
    .selectFrom('nodes as n')
    .selectAll('n')
    .select((eb) =>
      eb
        .selectFrom('executions as x')
        .select((x) => x.fn.countAll<number>().as('live'))
        .whereRef('x.node_id', '=', 'n.id')
        // Reaches the partial index executions_live (migration 0021).
        .where('x.ended_at', 'is', null)
        .where('x.state', 'in', LIVE_EXECUTION_STATES)
        .as('live'),
    )
    .where('n.id', 'in', nodeIds),
);
