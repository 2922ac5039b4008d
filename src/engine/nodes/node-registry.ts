import { DroverError, invalid, notFound } from '../../domain/errors.js';
import { checkCapabilities } from '../../domain/host-capabilities.js';
import { checkTelemetry, type NodeTelemetry } from '../../domain/node-telemetry.js';
import { extendLeasesOf, liveExecutionsOfNode } from '../../store/executions.js';
import { clearQuarantineMark } from '../../store/node-quarantine.js';
import {
  deleteNode,
  findNode,
  findNodeByName,
  findNodes,
  insertNode,
  lockNode,
  nodeHasExecutions,
  touchNodes,
  updateNode,
} from '../../store/nodes.js';
import type { NodeRow } from '../../store/schema.js';
import type { Principal } from '../accounts/accounts.js';
import { inTransaction, type EngineContext } from '../context.js';
import { groupCommitPerEngine, REPORT_SPACING_MS } from '../dispatch/group-commit.js';
import type { EngineSettings } from '../settings.js';
import { announceUnboundRetries } from '../tasks/unbound-retries.js';
import { recordTelemetry } from './node-telemetry.js';

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
  /** OpenJD attributes and amounts it reports (domain/host-capabilities.ts); none: nothing. */
  capabilities?: unknown;
  /** What a dialect keeps about the node (UFDL's ip, index, driver version…). */
  props?: Record<string, unknown>;
}

/**
 * Registers a node by name; registering again updates it (a restarted worker keeps its id).
 * `account`: who registers it. A non-admin account binds the node to itself, and may not
 * register again a name bound to another account (that would take over its id and work).
 */
export async function registerNode(
  ctx: EngineContext,
  r: NodeRegistration,
  account?: Principal,
): Promise<NodeRow> {
  const binds = account !== undefined && account.role !== 'admin';
  const slots = r.slots ?? 1;
  if (!Number.isInteger(slots) || slots < 1) throw invalid('slots must be an integer >= 1');
  // A registration replaces what the node reported before; an older worker reports nothing.
  const caps = r.capabilities === undefined ? null : checkCapabilities(r.capabilities);
  return inTransaction(ctx, async (tx, emit) => {
    const now = ctx.clock();
    const existing = await findNodeByName(tx, r.name);
    const pools = JSON.stringify(r.pools ?? []);
    const groups = JSON.stringify(r.groups ?? []);
    const fields = {
      hostname: r.hostname ?? r.name,
      state: 'ONLINE' as const,
      // An admin's lists stick until the admin clears them (setNodeMemberships); the
      // worker's are kept beside them for then.
      ...(existing?.pools_by_admin ? {} : { pools_json: pools }),
      ...(existing?.groups_by_admin ? {} : { groups_json: groups }),
      reported_pools_json: pools,
      reported_groups_json: groups,
      cpus: r.cpus ?? 1,
      mem: r.mem ?? 0,
      disk: r.disk ?? 0,
      gpus: r.gpus ?? 0,
      slots,
      props_json: JSON.stringify(r.props ?? {}),
      host_caps: caps ? JSON.stringify(caps) : null,
      last_heartbeat: now,
      last_modified: now,
    };
    let id: number;
    if (existing) {
      const bound = existing.account_id ?? null;
      if (binds && bound !== null && bound !== account.id) {
        throw new DroverError(
          'FORBIDDEN',
          `node ${r.name} is bound to another account; register under another name, or ask an admin`,
        );
      }
      id = existing.id;
      await updateNode(tx, id, { ...fields, ...(binds ? { account_id: account.id } : {}) });
    } else {
      id = await insertNode(tx, {
        ...fields,
        pools_json: pools,
        groups_json: groups,
        name: r.name,
        enabled: 1,
        created_at: now,
        account_id: binds ? account.id : null,
      });
    }
    const node = (await findNode(tx, id))!;
    emit({ type: 'node.state', nodeId: id, state: node.state, enabled: node.enabled === 1 });
    // Registering again may report fewer resources, pools or groups than its retries need.
    if (existing) await announceUnboundRetries(tx, emit, id);
    return node;
  });
}

export interface HeartbeatResult {
  /** Executions the node reported that it must stop: withdrawn, or their lease is gone. */
  stop: number[];
}

interface Heartbeat {
  nodeId: number;
  executionIds: readonly number[];
  telemetry?: NodeTelemetry | undefined;
}

const heartbeatWriter = groupCommitPerEngine(writeHeartbeats, {
  spacingMs: REPORT_SPACING_MS,
});

/**
 * A node's heartbeat: it is alive, and so are the executions it lists, whose leases are
 * extended. Anything it lists that is no longer live must stop. It may carry the machine's
 * telemetry (node-telemetry.ts). Heartbeats that arrive together are written together
 * (GroupCommit): one transaction for the lot.
 */
export async function nodeHeartbeat(
  ctx: EngineContext,
  settings: EngineSettings,
  nodeId: number,
  executionIds: readonly number[],
  telemetry?: NodeTelemetry,
): Promise<HeartbeatResult> {
  if (telemetry) checkTelemetry(telemetry);
  const result = await heartbeatWriter(ctx, settings).submit({ nodeId, executionIds, telemetry });
  if (result instanceof Error) throw result;
  return result;
}

async function writeHeartbeats(
  ctx: EngineContext,
  settings: EngineSettings,
  beats: readonly Heartbeat[],
): Promise<(HeartbeatResult | Error)[]> {
  return inTransaction(ctx, async (tx, emit) => {
    const now = ctx.clock();
    const nodes = new Map(
      (await findNodes(tx, [...new Set(beats.map((b) => b.nodeId))])).map((n) => [n.id, n]),
    );
    await touchNodes(tx, [...nodes.keys()], now);
    for (const beat of beats) {
      const node = nodes.get(beat.nodeId);
      if (!node || !beat.telemetry) continue;
      if (await recordTelemetry(tx, node.id, node.telemetry_at ?? null, beat.telemetry, now)) {
        node.telemetry_at = now;
      }
    }
    for (const node of nodes.values()) {
      if (node.state !== 'ONLINE') {
        emit({ type: 'node.state', nodeId: node.id, state: 'ONLINE', enabled: node.enabled === 1 });
      }
    }
    const held = beats.flatMap((b) =>
      nodes.has(b.nodeId) ? b.executionIds.map((id) => ({ id, nodeId: b.nodeId })) : [],
    );
    // By execution and node: a node that lists another node's execution must hear stop,
    // even when that node's own heartbeat in the same batch kept it alive.
    const extended = await extendLeasesOf(tx, held, now, now + settings.leaseMs);
    const alive = new Set(extended.map((e) => `${e.id}/${e.nodeId}`));
    return beats.map((b) =>
      nodes.has(b.nodeId)
        ? { stop: b.executionIds.filter((id) => !alive.has(`${id}/${b.nodeId}`)) }
        : notFound('node', b.nodeId),
    );
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
    // Enabling a quarantined node lifts its quarantine too, so the two never disagree.
    if (!enabled || !(await clearQuarantineMark(tx, nodeId, ctx.clock()))) {
      await updateNode(tx, nodeId, { enabled: enabled ? 1 : 0, last_modified: ctx.clock() });
    }
    emit({ type: 'node.state', nodeId, state: node.state, enabled });
    if (!enabled) await announceUnboundRetries(tx, emit, nodeId);
    return (await findNode(tx, nodeId))!;
  });
}

/**
 * Forgets a node. One that ever ran an execution stays: its executions' history names it
 * (disable it instead); so does one another request holds, as the row lock decides.
 */
export async function removeNode(ctx: EngineContext, nodeId: number): Promise<NodeRow> {
  return inTransaction(ctx, async (tx, emit) => {
    const node = await lockNode(tx, ctx.dialect, nodeId);
    if (!node) throw notFound('node', nodeId);
    if (await nodeHasExecutions(tx, nodeId)) {
      throw new DroverError(
        'CONFLICT',
        `node ${nodeId} (${node.name}) has worked jobs and their history refers to it; disable it instead`,
        { nodeId },
      );
    }
    await deleteNode(tx, nodeId);
    emit({ type: 'node.state', nodeId, state: 'OFFLINE', enabled: false });
    return node;
  });
}

export async function currentExecutionsOfNode(ctx: EngineContext, nodeId: number) {
  return liveExecutionsOfNode(ctx.db, nodeId);
}
