import { sql, type RawBuilder } from 'kysely';
import { compiledQuery } from './compiled-queries.js';
import type { Executor, Tx } from './database.js';
import type { LimitRow } from './schema.js';

/*
 * Limits and the jobs that name them (migration 0025). What a limit has in use is counted
 * from the RUNNING tasks of the jobs naming it; the claim's use of these counts is in
 * limitRoom (SQLite) and the functions of migration 0025 (PostgreSQL).
 */

export interface LimitFields {
  name: string;
  max_count: number;
  per: 'TASK' | 'MACHINE';
  node_list_mode: 'NONE' | 'ALLOW' | 'DENY';
  description: string;
}

export async function insertLimit(tx: Tx, fields: LimitFields, now: number): Promise<number> {
  const row = await tx
    .insertInto('limits')
    .values({ ...fields, created_at: now, last_modified: now })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(row.id);
}

export async function updateLimit(
  tx: Tx,
  id: number,
  fields: Partial<LimitFields>,
  now: number,
): Promise<void> {
  await tx
    .updateTable('limits')
    .set({ ...fields, last_modified: now })
    .where('id', '=', id)
    .execute();
}

export async function deleteLimit(tx: Tx, id: number): Promise<void> {
  await tx.deleteFrom('limits').where('id', '=', id).execute();
}

export async function findLimitByName(db: Executor, name: string): Promise<LimitRow | undefined> {
  return db.selectFrom('limits').selectAll().where('name', '=', name).executeTakeFirst();
}

/** Locks the limit's row until commit (PostgreSQL); SQLite's writer is alone anyway. */
export async function lockLimit(
  tx: Tx,
  postgres: boolean,
  name: string,
): Promise<LimitRow | undefined> {
  const q = tx.selectFrom('limits').selectAll().where('name', '=', name);
  return (postgres ? q.forUpdate() : q).executeTakeFirst();
}

export async function listLimits(db: Executor): Promise<LimitRow[]> {
  return db.selectFrom('limits').selectAll().orderBy('name').execute();
}

export async function setLimitNodes(tx: Tx, limitId: number, names: readonly string[]) {
  await tx.deleteFrom('limit_nodes').where('limit_id', '=', limitId).execute();
  const unique = [...new Set(names)];
  if (unique.length === 0) return;
  await tx
    .insertInto('limit_nodes')
    .values(unique.map((node_name) => ({ limit_id: limitId, node_name })))
    .execute();
}

export async function limitNodes(db: Executor, limitId: number): Promise<string[]> {
  const rows = await db
    .selectFrom('limit_nodes')
    .select('node_name')
    .where('limit_id', '=', limitId)
    .orderBy('node_name')
    .execute();
  return rows.map((r) => r.node_name);
}

/** Replaces the limits a job names, and its `uses_limits` flag with them. */
export async function setJobLimits(tx: Tx, jobId: number, names: readonly string[]) {
  await tx.deleteFrom('job_limits').where('job_id', '=', jobId).execute();
  const unique = [...new Set(names)];
  if (unique.length > 0) {
    await tx
      .insertInto('job_limits')
      .values(unique.map((limit_name) => ({ job_id: jobId, limit_name })))
      .execute();
  }
  await tx
    .updateTable('jobs')
    .set({ uses_limits: unique.length > 0 ? 1 : 0 })
    .where('id', '=', jobId)
    .execute();
}

export async function jobLimitNames(db: Executor, jobId: number): Promise<string[]> {
  const rows = await db
    .selectFrom('job_limits')
    .select('limit_name')
    .where('job_id', '=', jobId)
    .orderBy('limit_name')
    .execute();
  return rows.map((r) => r.limit_name);
}

/** The names each of these jobs names, by job. */
export async function limitNamesOfJobs(
  db: Executor,
  jobIds: readonly number[],
): Promise<Map<number, string[]>> {
  const byJob = new Map<number, string[]>();
  if (jobIds.length === 0) return byJob;
  const rows = await db
    .selectFrom('job_limits')
    .select(['job_id', 'limit_name'])
    .where('job_id', 'in', [...jobIds])
    .orderBy('limit_name')
    .execute();
  for (const r of rows) {
    const id = Number(r.job_id);
    byJob.set(id, [...(byJob.get(id) ?? []), r.limit_name]);
  }
  return byJob;
}

const runningOf = (name: RawBuilder<unknown> | string) => sql`job_limits o
  join tasks t on t.job_id = o.job_id and t.state = 'RUNNING'
  where o.limit_name = ${name}`;

export interface LimitUse {
  /** Running tasks of the jobs naming it. */
  tasks: number;
  /** Nodes running any of them. */
  nodes: number;
}

/** What a limit has in use: the running tasks of the jobs naming it, and their nodes. */
export async function limitUse(db: Executor, name: string): Promise<LimitUse> {
  const { rows } = await sql<{ tasks: number | string; nodes: number | string }>`
    select count(*) as tasks, count(distinct t.node_id) as nodes from ${runningOf(name)}
  `.execute(db);
  return { tasks: Number(rows[0]?.tasks ?? 0), nodes: Number(rows[0]?.nodes ?? 0) };
}

/** What counts against the limit: the nodes for a per-machine limit, else the tasks. */
export function inUse(limit: LimitRow, use: LimitUse): number {
  return limit.per === 'MACHINE' ? use.nodes : use.tasks;
}

/** Whether a limit's node list lets this node use it. */
export async function limitAdmits(db: Executor, limit: LimitRow, nodeName: string) {
  if (limit.node_list_mode === 'NONE') return true;
  const listed = await db
    .selectFrom('limit_nodes')
    .select('node_name')
    .where('limit_id', '=', limit.id)
    .where('node_name', '=', nodeName)
    .executeTakeFirst();
  return limit.node_list_mode === 'ALLOW' ? listed !== undefined : listed === undefined;
}

/**
 * How many more tasks of the job this node may start within the job's limits: 0 when one
 * is missing, refuses the node or is full; a per-machine limit the node has room for, or
 * already holds, bounds nothing. SQLite's claim, inside the claiming transaction (one
 * writer at a time, so nothing counts concurrently), in one statement; PostgreSQL's is
 * drover_limits_room.
 */
export async function limitRoom(
  db: Executor,
  jobId: number,
  node: { id: number; name: string },
): Promise<number> {
  let room = Number.MAX_SAFE_INTEGER;
  for (const r of await LIMIT_ROOM.execute(db, jobId, node.id, node.name)) {
    if (r.id === null) return 0;
    const listed = Number(r.listed) === 1;
    if (r.node_list_mode === 'ALLOW' ? !listed : r.node_list_mode === 'DENY' && listed) return 0;
    if (r.per === 'MACHINE') {
      if (Number(r.holds) !== 1 && Number(r.nodes) >= r.max_count) return 0;
    } else {
      room = Math.min(room, r.max_count - Number(r.tasks));
      if (room <= 0) return 0;
    }
  }
  return room;
}

const LIMIT_ROOM = compiledQuery((_db, jobId: number, nodeId: number, nodeName: string) => {
  const running = sql`job_limits o join tasks t on t.job_id = o.job_id and t.state = 'RUNNING'
    where o.limit_name = lm.name`;
  return sql<{
    id: number | null;
    per: string;
    max_count: number;
    node_list_mode: string;
    listed: number | boolean;
    tasks: number | string;
    nodes: number | string;
    holds: number | boolean;
  }>`
    select lm.id, lm.per, lm.max_count, lm.node_list_mode,
      exists (select 1 from limit_nodes ln where ln.limit_id = lm.id
        and ln.node_name = ${nodeName}) as listed,
      (select count(*) from ${running}) as tasks,
      (select count(distinct t.node_id) from ${running}) as nodes,
      exists (select 1 from ${running} and t.node_id = ${nodeId}) as holds
    from job_limits jl left join limits lm on lm.name = jl.limit_name
    where jl.job_id = ${jobId}
  `;
});

/**
 * The walk's test of a job's limits for a node, as SQL on `j` (no locks: the claim counts
 * again). The same test as PostgreSQL's drover_limits_open.
 */
export function limitsOpen(nodeId: number, nodeName: string): RawBuilder<unknown> {
  const listed = sql`exists (select 1 from limit_nodes ln where ln.limit_id = lm.id
    and ln.node_name = ${nodeName})`;
  const running = sql`job_limits o join tasks t on t.job_id = o.job_id and t.state = 'RUNNING'
    where o.limit_name = lm.name`;
  return sql`(j.uses_limits = 0 or not exists (
    select 1 from job_limits jl left join limits lm on lm.name = jl.limit_name
    where jl.job_id = j.id and (lm.id is null
      or (lm.node_list_mode = 'ALLOW' and not ${listed})
      or (lm.node_list_mode = 'DENY' and ${listed})
      or (lm.per = 'TASK' and (select count(*) from ${running}) >= lm.max_count)
      or (lm.per = 'MACHINE'
        and not exists (select 1 from ${running} and t.node_id = ${nodeId})
        and (select count(distinct t.node_id) from ${running}) >= lm.max_count))))`;
}
