import type { Tx } from '../../store/database.js';
import { queuedSameRetriesOn } from '../../store/retry-pins.js';
import type { Emit } from '../context.js';

/*
 * A retry that a rule with node SAME binds to a node waits for that node alone, and falls to
 * any node once the node cannot take its job (docs/scheduling.md#retry-rules). The claim's
 * test sees the fallback as soon as the node is disabled, offline or moved, but no event said
 * so: the waiting nodes found it only at their next poll. Whatever takes a node away calls
 * this in its transaction, so that as many waiting nodes as there are such retries wake.
 */

/** Announces the queued SAME retries bound to `nodeId`, if any (event `retries.unbound`). */
export async function announceUnboundRetries(tx: Tx, emit: Emit, nodeId: number): Promise<void> {
  const count = await queuedSameRetriesOn(tx, nodeId);
  if (count > 0) emit({ type: 'retries.unbound', nodeId, count });
}
