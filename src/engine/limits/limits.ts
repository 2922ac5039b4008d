import { DroverError, invalid, notFound } from '../../domain/errors.js';
import {
  LIMIT_PER,
  limitName,
  limitNames,
  MAX_LIMIT_COUNT,
  MAX_LIMIT_DESCRIPTION,
  MAX_LIMIT_NODES,
  MAX_NODE_NAME_LENGTH,
  type LimitPer,
} from '../../domain/limits.js';
import type { Executor, Tx } from '../../store/database.js';
import {
  deleteLimit as deleteLimitRow,
  findLimitByName,
  inUse,
  insertLimit,
  limitNodes,
  limitUse,
  listLimits as listLimitRows,
  lockLimit,
  setJobLimits,
  setLimitNodes,
  updateLimit as updateLimitRow,
  type LimitFields,
} from '../../store/limits.js';
import type { LimitRow } from '../../store/schema.js';
import { inTransaction, type EngineContext } from '../context.js';

/*
 * Limits as operators manage them (docs/scheduling.md). The claim enforces them
 * (store/limits.ts, migration 0025); this is their creation, change and reading.
 */

export interface LimitInput {
  name: string;
  maxCount: number;
  per?: LimitPer;
  allowList?: string[];
  denyList?: string[];
  description?: string;
}

export type LimitChanges = Partial<Omit<LimitInput, 'name'>>;

export interface LimitView {
  name: string;
  maxCount: number;
  per: LimitPer;
  /** Nodes that may use it (ALLOW), or may not (DENY); empty with NONE. */
  nodeListMode: 'NONE' | 'ALLOW' | 'DENY';
  nodes: string[];
  description: string;
  /** Running tasks of the jobs naming it (per TASK), or nodes running them (per MACHINE). */
  inUse: number;
  createdAt: number;
  lastModified: number;
}

export async function createLimit(ctx: EngineContext, input: LimitInput): Promise<LimitView> {
  const name = limitName(input.name);
  check(input);
  return inTransaction(ctx, async (tx, emit) => {
    if (await findLimitByName(tx, name)) {
      throw new DroverError('CONFLICT', `limit "${name}" already exists; change it instead`, {
        field: 'name',
      });
    }
    const list = nodeList(input);
    const fields: LimitFields = {
      name,
      max_count: input.maxCount,
      per: input.per ?? 'TASK',
      node_list_mode: list.mode,
      description: input.description ?? '',
    };
    const id = await insertLimit(tx, fields, ctx.clock());
    await setLimitNodes(tx, id, list.names);
    // Jobs that named it before it existed may run now.
    emit({ type: 'limit.changed', name });
    return view(tx, (await findLimitByName(tx, name))!);
  });
}

export async function updateLimit(
  ctx: EngineContext,
  rawName: string,
  changes: LimitChanges,
): Promise<LimitView> {
  const name = limitName(rawName);
  check(changes);
  return inTransaction(ctx, async (tx, emit) => {
    const limit = await lockLimit(tx, ctx.dialect === 'postgres', name);
    if (!limit) throw notFound('limit', name);
    const fields: Partial<LimitFields> = {};
    if (changes.maxCount !== undefined) fields.max_count = changes.maxCount;
    if (changes.per !== undefined) fields.per = changes.per;
    if (changes.description !== undefined) fields.description = changes.description;
    if (changes.allowList !== undefined || changes.denyList !== undefined) {
      const list = nodeList(changes);
      fields.node_list_mode = list.mode;
      await setLimitNodes(tx, limit.id, list.names);
    }
    await updateLimitRow(tx, limit.id, fields, ctx.clock());
    emit({ type: 'limit.changed', name });
    return view(tx, (await findLimitByName(tx, name))!);
  });
}

/** Jobs naming a deleted limit wait until one of that name exists again. */
export async function deleteLimit(ctx: EngineContext, rawName: string): Promise<void> {
  const name = limitName(rawName);
  await inTransaction(ctx, async (tx, emit) => {
    const limit = await lockLimit(tx, ctx.dialect === 'postgres', name);
    if (!limit) throw notFound('limit', name);
    await deleteLimitRow(tx, limit.id);
    emit({ type: 'limit.changed', name });
  });
}

/** Refuses a job's limit names that no limit has (the native API's submit and change). */
export async function checkLimitsExist(db: Executor | Tx, names: readonly string[]) {
  for (const name of names) {
    if (!(await findLimitByName(db, name))) {
      throw invalid(`limit "${name}" does not exist; create it first (drover limit create)`, {
        field: 'limits',
      });
    }
  }
}

/** Replaces the limits a job names (a change of the job's settings, under its lock). */
export async function replaceJobLimits(
  tx: Tx,
  jobId: number,
  names: readonly string[],
  acceptUnknown: boolean,
): Promise<void> {
  const checked = limitNames(names);
  if (!acceptUnknown) await checkLimitsExist(tx, checked);
  await setJobLimits(tx, jobId, checked);
}

export async function getLimit(ctx: EngineContext, rawName: string): Promise<LimitView> {
  const name = limitName(rawName);
  const limit = await findLimitByName(ctx.db, name);
  if (!limit) throw notFound('limit', name);
  return view(ctx.db, limit);
}

export async function listLimits(ctx: EngineContext): Promise<LimitView[]> {
  const rows = await listLimitRows(ctx.db);
  return Promise.all(rows.map((r) => view(ctx.db, r)));
}

async function view(db: Executor | Tx, limit: LimitRow): Promise<LimitView> {
  return {
    name: limit.name,
    maxCount: limit.max_count,
    per: limit.per,
    nodeListMode: limit.node_list_mode,
    nodes: await limitNodes(db, limit.id),
    description: limit.description,
    inUse: inUse(limit, await limitUse(db, limit.name)),
    createdAt: Number(limit.created_at),
    lastModified: Number(limit.last_modified),
  };
}

function check(input: LimitChanges): void {
  const { maxCount, per, description } = input;
  if (
    maxCount !== undefined &&
    (!Number.isInteger(maxCount) || maxCount < 0 || maxCount > MAX_LIMIT_COUNT)
  ) {
    throw invalid(`maxCount must be a whole number from 0 to ${MAX_LIMIT_COUNT}`, {
      field: 'maxCount',
    });
  }
  if (per !== undefined && !LIMIT_PER.includes(per)) {
    throw invalid(`per must be one of ${LIMIT_PER.join(', ')}`, { field: 'per' });
  }
  if (description !== undefined && description.length > MAX_LIMIT_DESCRIPTION) {
    throw invalid(`description is at most ${MAX_LIMIT_DESCRIPTION} characters`, {
      field: 'description',
    });
  }
  if (input.allowList?.length && input.denyList?.length) {
    throw invalid('give either allowList or denyList, not both', { field: 'allowList' });
  }
  for (const field of ['allowList', 'denyList'] as const) {
    const names = input[field] ?? [];
    if (names.length > MAX_LIMIT_NODES) {
      throw invalid(`${field} holds at most ${MAX_LIMIT_NODES} nodes`, { field });
    }
    if (names.some((n) => n.length === 0 || n.length > MAX_NODE_NAME_LENGTH)) {
      throw invalid(`${field}: node names are 1 to ${MAX_NODE_NAME_LENGTH} characters`, {
        field,
      });
    }
  }
}

function nodeList(input: LimitChanges): { mode: 'NONE' | 'ALLOW' | 'DENY'; names: string[] } {
  if (input.allowList?.length) return { mode: 'ALLOW', names: input.allowList };
  if (input.denyList?.length) return { mode: 'DENY', names: input.denyList };
  return { mode: 'NONE', names: [] };
}
