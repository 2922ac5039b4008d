import { invalid, notFound } from '../domain/errors.js';
import { liveExecutionsOfNode, extendLeases } from '../store/executions.js';
import { findNode, findNodeByName, insertNode, updateNode } from '../store/nodes.js';
import type { NodeRow } from '../store/schema.js';
import { inTransaction, type EngineContext } from './context.js';
import type { EngineSettings } from './settings.js';

export interface NodeRegistration {
  name: string;
  hostname?: string;
  pools?: string[];
  groups?: string[];
  cpus?: number;
  mem?: number;
  disk?: number;
  gpus?: number;
  slots?: number;
  /** What a dialect keeps about the node (UFDL's ip, index, driver version…). */
  props?: Record<string, unknown>;
}

/** Registers a node by name; registering again updates it (a restarted worker keeps its id). */
export async function registerNode(ctx: EngineContext, r: NodeRegistration): Promise<NodeRow> {
  const slots = r.slots ?? 1;
  if (!Number.isInteger(slots) || slots < 1) throw invalid('slots must be an integer >= 1');
  return inTransaction(ctx, async (tx, emit) => {
    const now = ctx.clock();
    const fields = {
      hostname: r.hostname ?? r.name,
      state: 'ONLINE' as const,
      pools_json: JSON.stringify(r.pools ?? []),
      groups_json: JSON.stringify(r.groups ?? []),
      cpus: r.cpus ?? 1,
      mem: r.mem ?? 0,
      disk: r.disk ?? 0,
      gpus: r.gpus ?? 0,
      slots,
      props_json: JSON.stringify(r.props ?? {}),
      last_heartbeat: now,
      last_modified: now,
    };
    const existing = await findNodeByName(tx, r.name);
    let id: number;
    if (existing) {
      id = existing.id;
      await updateNode(tx, id, fields);
    } else {
      id = await insertNode(tx, { ...fields, name: r.name, enabled: 1, created_at: now });
    }
    const node = (await findNode(tx, id))!;
    emit({ type: 'node.state', nodeId: id, state: node.state, enabled: node.enabled === 1 });
    return node;
  });
}

export interface HeartbeatResult {
  /** Executions the node reported that it must stop: withdrawn, or their lease is gone. */
  stop: number[];
}

/**
 * A node's heartbeat: it is alive, and so are the executions it lists, whose leases are
 * extended in the same statement. Anything it lists that is no longer live must stop.
 */
export async function nodeHeartbeat(
  ctx: EngineContext,
  settings: EngineSettings,
  nodeId: number,
  executionIds: readonly number[],
): Promise<HeartbeatResult> {
  return inTransaction(ctx, async (tx, emit) => {
    const node = await findNode(tx, nodeId);
    if (!node) throw notFound('node', nodeId);
    const now = ctx.clock();
    await updateNode(tx, nodeId, { last_heartbeat: now, state: 'ONLINE', last_modified: now });
    if (node.state !== 'ONLINE') {
      emit({ type: 'node.state', nodeId, state: 'ONLINE', enabled: node.enabled === 1 });
    }
    const alive = await extendLeases(tx, nodeId, executionIds, now, now + settings.leaseMs);
    return { stop: executionIds.filter((id) => !alive.includes(id)) };
  });
}

export async function setNodeEnabled(
  ctx: EngineContext,
  nodeId: number,
  enabled: boolean,
): Promise<NodeRow> {
  return inTransaction(ctx, async (tx, emit) => {
    const node = await findNode(tx, nodeId);
    if (!node) throw notFound('node', nodeId);
    await updateNode(tx, nodeId, { enabled: enabled ? 1 : 0, last_modified: ctx.clock() });
    emit({ type: 'node.state', nodeId, state: node.state, enabled });
    return { ...node, enabled: enabled ? 1 : 0 };
  });
}

export async function currentExecutionsOfNode(ctx: EngineContext, nodeId: number) {
  return liveExecutionsOfNode(ctx.db, nodeId);
}
