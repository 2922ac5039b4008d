import { notFound } from '../../domain/errors.js';
import { findNode, findNodeByName, insertNode, updateNode } from '../../store/nodes.js';
import type { NodeRow } from '../../store/schema.js';
import { inTransaction, type EngineContext } from '../context.js';
import { announceUnboundRetries } from '../tasks/unbound-retries.js';

/*
 * Nodes that another face describes in its own terms (UFDL: ip, GPU index, memory) and may
 * rename: registerNode keys nodes by name, these change a node found by id.
 */

export interface NodeDescription {
  name: string;
  hostname: string;
  mem: number;
  gpus: number;
  pools: string[];
  props: Record<string, unknown>;
}

/** `accountId`: the account the new node is bound to (none when an admin creates it). */
export async function createDescribedNode(
  ctx: EngineContext,
  d: NodeDescription,
  accountId: number | null = null,
): Promise<NodeRow | undefined> {
  return inTransaction(ctx, async (tx, emit) => {
    if (await findNodeByName(tx, d.name)) return undefined;
    const now = ctx.clock();
    const id = await insertNode(tx, {
      name: d.name,
      hostname: d.hostname,
      state: 'ONLINE',
      enabled: 1,
      pools_json: JSON.stringify(d.pools),
      groups_json: '[]',
      cpus: 1,
      mem: d.mem,
      disk: 0,
      gpus: d.gpus,
      slots: 1,
      props_json: JSON.stringify(d.props),
      last_heartbeat: now,
      created_at: now,
      last_modified: now,
      account_id: accountId,
    });
    emit({ type: 'node.state', nodeId: id, state: 'ONLINE', enabled: true });
    return (await findNode(tx, id))!;
  });
}

/** Rewrites a node's description; `undefined` when the new name belongs to another node. */
export async function describeNode(
  ctx: EngineContext,
  nodeId: number,
  d: NodeDescription,
): Promise<NodeRow | undefined> {
  return inTransaction(ctx, async (tx) => {
    const node = await findNode(tx, nodeId);
    if (!node) throw notFound('node', nodeId);
    const other = await findNodeByName(tx, d.name);
    if (other && other.id !== nodeId) return undefined;
    await updateNode(tx, nodeId, {
      name: d.name,
      hostname: d.hostname,
      mem: d.mem,
      gpus: d.gpus,
      props_json: JSON.stringify(d.props),
      last_modified: ctx.clock(),
    });
    return (await findNode(tx, nodeId))!;
  });
}

export interface NodeMemberships {
  /** null: forget the admin's list, and serve the worker's own again. */
  pools?: string[] | null | undefined;
  groups?: string[] | null | undefined;
}

/**
 * An admin's change of the pools and groups a node serves (PATCH /api/v1/nodes/:id). The
 * dispatcher reads them from the row on every claim, so the change holds from the next one.
 * They stick: a worker that registers again keeps them (its own --pool/--group lists are
 * remembered beside them) until an admin clears them with null, which brings the worker's
 * lists back at once.
 */
export async function setNodeMemberships(
  ctx: EngineContext,
  nodeId: number,
  m: NodeMemberships,
): Promise<NodeRow> {
  return inTransaction(ctx, async (tx, emit) => {
    const node = await findNode(tx, nodeId);
    if (!node) throw notFound('node', nodeId);
    const tidy = (names: string[]) =>
      JSON.stringify([...new Set(names.map((n) => n.trim()))].sort());
    // Before a worker has registered since 0040, its lists are the node's current ones.
    const reportedPools =
      node.reported_pools_json ?? (node.pools_by_admin ? null : node.pools_json);
    const reportedGroups =
      node.reported_groups_json ?? (node.groups_by_admin ? null : node.groups_json);
    await updateNode(tx, nodeId, {
      ...(m.pools === undefined
        ? {}
        : m.pools === null
          ? { pools_json: reportedPools ?? '[]', pools_by_admin: 0 }
          : { pools_json: tidy(m.pools), pools_by_admin: 1, reported_pools_json: reportedPools }),
      ...(m.groups === undefined
        ? {}
        : m.groups === null
          ? { groups_json: reportedGroups ?? '[]', groups_by_admin: 0 }
          : {
              groups_json: tidy(m.groups),
              groups_by_admin: 1,
              reported_groups_json: reportedGroups,
            }),
      last_modified: ctx.clock(),
    });
    const updated = (await findNode(tx, nodeId))!;
    emit({
      type: 'node.state',
      nodeId,
      state: updated.state,
      enabled: updated.enabled === 1,
    });
    // Out of a pool or group its bound retries' jobs need: they may go to any node now.
    await announceUnboundRetries(tx, emit, nodeId);
    return updated;
  });
}
