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
  let ended = 0;
  const started = performance.now();
  await Promise.all(
    nodeIds.map(async (nodeId) => {
      while (finished < tasks) {
        if (Date.now() > deadline) throw new Error(`only ${finished} of ${tasks} tasks finished`);
        // Not `finished += await …`: that would read `finished` before the await.
        const done = await step(nodeId, result);
        finished += done;
        if (finished >= tasks && ended === 0) ended = performance.now();
      }
    }),
  );
  // To the last finish answered: the other nodes are by then in a long-poll that sits out
  // its wait (up to 1 s), which Graphile Worker's figure has no counterpart of. Counted, it
  // was up to a third of a 10,000-task run.
  result.elapsedMs = ended - started;
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

/**
 * claims {max: batch, start: true, jobsOnce: true}, carrying the finishes of the node's last batch: one
 * call per batch. A call that reports finishes takes what is there (wait 0), so that its
 * answer is not held back by a long-poll; a node with nothing to report waits up to 1 s.
 */
export function drainBatched(
  client: HttpClient,
  nodeIds: number[],
  tasks: number,
  batch: number,
  deadline: number,
): Promise<DrainResult> {
  const toReport = new Map<number, WorkOrder[]>();
  return drain(tasks, nodeIds, deadline, async (nodeId, result) => {
    const report = toReport.get(nodeId) ?? [];
    const t0 = performance.now();
    const got = await client.request<Claimed & Partial<Finished>>(
      'POST',
      `/nodes/${nodeId}/claims`,
      {
        max: batch,
        wait: report.length > 0 ? 0 : 1,
        start: true,
        // As `drover worker` claims: each job once per answer.
        jobsOnce: true,
        ...(report.length > 0
          ? {
              finishes: report.map((o) => ({
                executionId: o.execution.id,
                success: true,
                exitCode: 0,
              })),
            }
          : {}),
      },
    );
    const ms = performance.now() - t0;
    if (got.status === 404 && !('orders' in got.body) && isMissingRoute(got.body)) {
      throw new NoBatchedProtocol(
        `this server has no batched protocol: POST /api/v1/nodes/:id/claims answered 404 (${JSON.stringify(got.body)}). ` +
          'It is being built on main; run --mode single, or rebase onto a main that has it.',
      );
    }
    if (got.status !== 200)
      throw new Error(`claims answered ${got.status}: ${JSON.stringify(got.body)}`);
    const refused = (got.body.results ?? []).filter((r) => r.status !== 200);
    if (refused.length > 0) throw new Error(`finishes refused: ${JSON.stringify(refused)}`);
    if (report.length > 0 && got.body.results?.length !== report.length) {
      throw new Error(
        `the claim answered ${got.body.results?.length} of ${report.length} finishes`,
      );
    }
    const orders = got.body.orders;
    toReport.set(nodeId, orders);
    if (orders.length > 0) result.acquireMs.push(ms);
    else if (report.length === 0) result.empty++;
    return report.length;
  });
}

/** The answer for a route the server does not have (as opposed to a node it does not know). */
function isMissingRoute(body: unknown): boolean {
  return /no route/i.test(JSON.stringify(body));
}
