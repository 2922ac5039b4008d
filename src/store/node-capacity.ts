import { sql } from 'kysely';
import { LIVE_EXECUTION_STATES } from '../domain/execution-state.js';
import { parseGpuIds } from '../domain/gpu-ids.js';
import { compiledQuery } from './compiled-queries.js';
import type { DialectName, Executor } from './database.js';
import type { NodeRow } from './schema.js';

/*
 * Capacity on SQLite (migration 0035): what a node's live executions of capacity jobs ask
 * for, and the GPU indexes they hold. The dispatcher asks only for a job that asks cpus,
 * memory or gpus (`uses_capacity`), inside its one writing transaction, so a count is never
 * stale and two claims never give out the same index. PostgreSQL counts the same inside
 * drover_claim (drover_capacity_room, drover_free_gpus).
 */

/** Tolerance for sums of fractional asks (0.25 cpus), so that 16 / 4 fits 4 times. */
const EPSILON = 1e-6;

interface Held {
  req_cpus: number;
  req_mem: number;
  req_gpus: number;
  gpu_ids: string;
}

const HELD = compiledQuery((_db, nodeId: number) => {
  const live = sql.raw(LIVE_EXECUTION_STATES.map((s) => `'${s}'`).join(', '));
  return sql<Held>`
    select j.req_cpus, j.req_mem, j.req_gpus, x.gpu_ids from executions x
    join jobs j on j.id = x.job_id and j.uses_capacity = 1
    where x.node_id = ${nodeId} and x.ended_at is null and x.state in (${live})
  `;
});

const ASK = compiledQuery((db, jobId: number) =>
  db.selectFrom('jobs').select(['req_cpus', 'req_mem', 'req_gpus']).where('id', '=', jobId),
);

/** What a node has free: cpus, memory (MiB), gpus, and the GPU indexes no one holds. */
export interface FreeCapacity {
  cpus: number;
  mem: number;
  gpus: number;
  gpuIds: number[];
}

export async function freeCapacity(db: Executor, node: NodeRow): Promise<FreeCapacity> {
  const held = await HELD.execute(db, node.id);
  const taken = new Set<number>();
  let cpus = node.cpus;
  let mem = node.mem;
  let gpus = node.gpus;
  for (const h of held) {
    cpus -= h.req_cpus;
    mem -= h.req_mem;
    gpus -= h.req_gpus;
    for (const id of parseGpuIds(h.gpu_ids)) taken.add(id);
  }
  const gpuIds: number[] = [];
  for (let i = 0; i < Math.floor(node.gpus); i++) if (!taken.has(i)) gpuIds.push(i);
  return { cpus, mem, gpus, gpuIds };
}

/** How many tasks of a job fit in what is free, and the job's ask. */
export async function capacityRoom(
  db: Executor,
  node: NodeRow,
  jobId: number,
): Promise<{ room: number; free: FreeCapacity; gpusPerTask: number }> {
  const ask = await ASK.executeTakeFirst(db, jobId);
  const free = await freeCapacity(db, node);
  if (!ask) return { room: 0, free, gpusPerTask: 0 };
  return { room: tasksThatFit(free, ask), free, gpusPerTask: Math.ceil(ask.req_gpus) };
}

export function tasksThatFit(
  free: Pick<FreeCapacity, 'cpus' | 'mem' | 'gpus'>,
  ask: { req_cpus: number; req_mem: number; req_gpus: number },
): number {
  let room = Number.MAX_SAFE_INTEGER;
  const fit = (have: number, want: number) => {
    if (want > 0) room = Math.min(room, Math.floor(have / want + EPSILON));
  };
  fit(free.cpus, ask.req_cpus);
  fit(free.mem, ask.req_mem);
  fit(free.gpus, ask.req_gpus);
  return Math.max(0, room);
}

/** Records the GPU indexes given to executions of this claim. */
export async function setExecutionGpus(
  db: Executor,
  executionId: number,
  gpuIds: string,
): Promise<void> {
  await SET_GPUS.execute(db, executionId, gpuIds);
}

const SET_GPUS = compiledQuery((db, executionId: number, gpuIds: string) =>
  db.updateTable('executions').set({ gpu_ids: gpuIds }).where('id', '=', executionId),
);

/**
 * PostgreSQL: the advisory lock drover_claim takes on a node (migration 0030), tried and
 * never awaited, so that a claim outside it (UFDL's claim of a named job) counts the node's
 * capacity and gives GPU indexes without a concurrent claim of the same node doing the same.
 * SQLite runs one writing transaction at a time: always true.
 */
export async function tryNodeClaimLock(
  db: Executor,
  dialect: DialectName,
  nodeId: number,
): Promise<boolean> {
  if (dialect !== 'postgres') return true;
  const row = await NODE_CLAIM_LOCK.executeTakeFirst(db, nodeId);
  return row?.ok === true;
}

const NODE_CLAIM_LOCK = compiledQuery(
  (_db, nodeId: number) => sql<{ ok: boolean }>`
    select pg_try_advisory_xact_lock(hashtext(current_schema() || '/drover_claim/node'),
      cast(${nodeId} % 2147483647 as int)) as ok
  `,
);
