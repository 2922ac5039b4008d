import type { WorkOrder } from './drover-client.js';
import { startAndFinish } from './drover-client.js';
import type { HttpClient } from './http-client.js';
import { ExpectedFailure } from './run-bounds.js';

/*
 * Nodes draining a queue of no-op tasks, with Drover's single-task protocol or its batched
 * one. Each node is a loop; all loops share one counter and stop when `tasks` are done.
 */

export interface DrainResult {
  /** From the first acquire sent to the last finish answered. */
  elapsedMs: number;
  /**
   * Latency of each acquire (or claim) call that brought work. Empty answers are left out:
   * they are long-polls that sat out their wait, mostly at the end of the run.
   */
  acquireMs: number[];
  /** Acquires (or claims) that came back without work. */
  empty: number;
}

interface Claimed {
  orders: WorkOrder[];
}

interface Finished {
  results: { executionId: number; status: number; code?: string; message?: string }[];
}

/** Said when the server has no batched protocol (it is being built; see bench/README.md). */
export class NoBatchedProtocol extends ExpectedFailure {}

async function drain(
  tasks: number,
  nodeIds: number[],
  deadline: number,
  step: (nodeId: number, result: DrainResult) => Promise<number>,
): Promise<DrainResult> {
  const result: DrainResult = { elapsedMs: 0, acquireMs: [], empty: 0 };
  let finished = 0;
  const started = performance.now();
  await Promise.all(
    nodeIds.map(async (nodeId) => {
      while (finished < tasks) {
        if (Date.now() > deadline) throw new Error(`only ${finished} of ${tasks} tasks finished`);
        // Not `finished += await …`: that would read `finished` before the await.
        const done = await step(nodeId, result);
        finished += done;
      }
    }),
  );
  result.elapsedMs = performance.now() - started;
  return result;
}

/** acquire?wait=1 → start → finish, one task per round trip. */
export function drainSingle(
  client: HttpClient,
  nodeIds: number[],
  tasks: number,
  deadline: number,
): Promise<DrainResult> {
  return drain(tasks, nodeIds, deadline, async (nodeId, result) => {
    const t0 = performance.now();
    const got = await client.request<WorkOrder>('POST', `/nodes/${nodeId}/acquire?wait=1`);
    if (got.status === 204) {
      result.empty++;
      return 0;
    }
    if (got.status !== 200) throw new Error(`acquire answered ${got.status}`);
    result.acquireMs.push(performance.now() - t0);
    await startAndFinish(client, nodeId, got.body);
    return 1;
  });
}

/** claims {max: batch, wait: 1, start: true} → finishes of all of them, in one call each. */
export function drainBatched(
  client: HttpClient,
  nodeIds: number[],
  tasks: number,
  batch: number,
  deadline: number,
): Promise<DrainResult> {
  return drain(tasks, nodeIds, deadline, async (nodeId, result) => {
    const t0 = performance.now();
    const got = await client.request<Claimed>('POST', `/nodes/${nodeId}/claims`, {
      max: batch,
      wait: 1,
      start: true,
    });
    const ms = performance.now() - t0;
    if (got.status === 404 && !('orders' in got.body) && isMissingRoute(got.body)) {
      throw new NoBatchedProtocol(
        `this server has no batched protocol: POST /api/v1/nodes/:id/claims answered 404 (${JSON.stringify(got.body)}). ` +
          'It is being built on main; run --mode single, or rebase onto a main that has it.',
      );
    }
    if (got.status !== 200)
      throw new Error(`claims answered ${got.status}: ${JSON.stringify(got.body)}`);
    const orders = got.body.orders;
    if (orders.length === 0) {
      result.empty++;
      return 0;
    }
    result.acquireMs.push(ms);
    const done = await client.expect<Finished>(200, 'POST', `/nodes/${nodeId}/finishes`, {
      finishes: orders.map((o) => ({ executionId: o.execution.id, success: true, exitCode: 0 })),
    });
    const refused = done.results.filter((r) => r.status !== 200);
    if (refused.length > 0) throw new Error(`finishes refused: ${JSON.stringify(refused)}`);
    return orders.length;
  });
}

/** The answer for a route the server does not have (as opposed to a node it does not know). */
function isMissingRoute(body: unknown): boolean {
  return /no route/i.test(JSON.stringify(body));
}
