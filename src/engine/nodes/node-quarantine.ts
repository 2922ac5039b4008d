import { DroverError, notFound } from '../../domain/errors.js';
import { nodesToQuarantine, type QuarantineRule } from '../../domain/node-quarantine.js';
import { insertAuditEvent } from '../../store/audit.js';
import {
  clearQuarantineMark,
  markQuarantined,
  nodeFailureStats,
} from '../../store/node-quarantine.js';
import { findNode } from '../../store/nodes.js';
import type { NodeRow } from '../../store/schema.js';
import { inTransaction, type EngineContext } from '../context.js';
import { enqueueNodeQuarantinedNotifications } from '../notifications/notification-hook.js';
import { announceUnboundRetries } from '../tasks/unbound-retries.js';

/*
 * Farm-wide quarantine (docs/scheduling.md#quarantine): the reaper's scan judges every
 * node's failure rate over the window against its peers' (domain/node-quarantine.ts) and
 * disables those that stand out, with the reason, an audit entry, a node.state event and
 * the node.quarantined notifications. Operators clear it (or enable the node).
 */

/** Quarantines the nodes the rule names now; answers the ids quarantined by this call. */
export async function scanForQuarantine(
  ctx: EngineContext,
  rule: QuarantineRule,
  now: number,
): Promise<number[]> {
  if (rule.failures <= 0) return [];
  const verdicts = nodesToQuarantine(await nodeFailureStats(ctx.db, now - rule.windowMs), rule);
  const done: number[] = [];
  for (const { nodeId, reason } of verdicts) {
    const node = await inTransaction(ctx, async (tx, emit) => {
      // Another replica's scan, or an operator, may have got there first: the update decides.
      if (!(await markQuarantined(tx, nodeId, reason, now))) return undefined;
      const row = (await findNode(tx, nodeId))!;
      await insertAuditEvent(tx, {
        at: now,
        actor: 'drover',
        role: 'system',
        face: 'engine',
        action: `node.quarantine ${row.name}: ${reason}`.slice(0, 1000),
        method: '',
        path: `/api/v1/nodes/${nodeId}`,
        job_id: null,
        address: '',
        status: 0,
      });
      emit({ type: 'node.state', nodeId, state: row.state, enabled: false });
      await announceUnboundRetries(tx, emit, nodeId);
      await enqueueNodeQuarantinedNotifications(tx, emit, row, reason, now);
      return row;
    });
    if (node) done.push(nodeId);
  }
  return done;
}

/**
 * Lifts a node's quarantine: it takes work again, and the failures before now no longer
 * count against it. CONFLICT when it is not quarantined.
 */
export async function clearNodeQuarantine(ctx: EngineContext, nodeId: number): Promise<NodeRow> {
  return inTransaction(ctx, async (tx, emit) => {
    const node = await findNode(tx, nodeId);
    if (!node) throw notFound('node', nodeId);
    if (!(await clearQuarantineMark(tx, nodeId, ctx.clock()))) {
      throw new DroverError('CONFLICT', `node ${nodeId} (${node.name}) is not quarantined`, {
        nodeId,
      });
    }
    emit({ type: 'node.state', nodeId, state: node.state, enabled: true });
    return (await findNode(tx, nodeId))!;
  });
}
