import { notFound } from '../../domain/errors.js';
import {
  MIN_TELEMETRY_INTERVAL_MS,
  TELEMETRY_STEPS,
  telemetryPoint,
  type NodeTelemetry,
} from '../../domain/node-telemetry.js';
import type { Tx } from '../../store/database.js';
import {
  addTelemetryPoint,
  pruneTelemetry,
  saveLatestTelemetry,
  telemetryHistory,
} from '../../store/node-telemetry.js';
import { findNode } from '../../store/nodes.js';
import type { NodeTelemetryTable } from '../../store/schema.js';
import type { EngineContext } from '../context.js';

/*
 * A node's telemetry: the latest report on its row, and the history, written downsampled
 * (each report joins the mean of its 10 s point and of its 5 min point) and pruned by the
 * reaper. Three statements per report, and a node reports every 10 s or so; reports closer
 * together than MIN_TELEMETRY_INTERVAL_MS are dropped, so no node can make it more.
 */

/**
 * Records a report that arrived with a heartbeat, in the heartbeat's transaction; false
 * when it came too soon after the last one and was dropped. `lastAt`: when the node last
 * reported, as read in this transaction.
 */
export async function recordTelemetry(
  tx: Tx,
  nodeId: number,
  lastAt: number | null,
  telemetry: NodeTelemetry,
  now: number,
): Promise<boolean> {
  if (lastAt !== null && now - lastAt < MIN_TELEMETRY_INTERVAL_MS && now >= lastAt) return false;
  await saveLatestTelemetry(tx, nodeId, JSON.stringify(telemetry), now);
  const point = telemetryPoint(telemetry);
  for (const { stepS } of TELEMETRY_STEPS) {
    const stepMs = stepS * 1000;
    await addTelemetryPoint(tx, nodeId, stepS, Math.floor(now / stepMs) * stepMs, point);
  }
  return true;
}

/** How often the reaper's pass prunes: points age by the minute at the finest. */
const PRUNE_EVERY_MS = 60_000;
const lastPruned = new WeakMap<EngineContext, number>();

/**
 * Deletes the points older than their step keeps them (10 s points after a day, 5 min
 * points after 90 days), at most once a minute per engine; answers how many went.
 */
export async function pruneNodeTelemetry(ctx: EngineContext, now: number): Promise<number> {
  const last = lastPruned.get(ctx);
  if (last !== undefined && now - last < PRUNE_EVERY_MS && now >= last) return 0;
  lastPruned.set(ctx, now);
  let pruned = 0;
  for (const { stepS, keepMs } of TELEMETRY_STEPS) {
    pruned += await pruneTelemetry(ctx.db, stepS, now - keepMs);
  }
  return pruned;
}

export interface TelemetryHistoryQuery {
  nodeId: number;
  stepS: (typeof TELEMETRY_STEPS)[number]['stepS'];
  from: number;
  to: number;
  limit: number;
}

/** A node's history at one step; 404 for an unknown node. */
export async function nodeTelemetryHistory(
  ctx: EngineContext,
  query: TelemetryHistoryQuery,
): Promise<NodeTelemetryTable[]> {
  if (!(await findNode(ctx.db, query.nodeId))) throw notFound('node', query.nodeId);
  return telemetryHistory(ctx.db, query);
}
