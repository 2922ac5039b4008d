/*
 * Pickup latency: how soon an idle node long-polling for work gets a task that was just
 * submitted. One node waits in `acquire?wait=30`; jobs of one task are submitted one after
 * another, each once the node is waiting again, and the time from the submission's 2xx to
 * the node's acquire answer is taken, both as seen by this (client) process. The server
 * runs in a child process. The first few submissions warm the server up and are not counted.
 *
 *   npx tsx bench/pickup.ts [--db sqlite|postgres|both] [--submissions 200] [--budget 300]
 *                           [--quick]
 */
import { parseArgs } from 'node:util';
import { databaseKinds, positive, type DbKind } from './support/cli.js';
import {
  registerNodes,
  startAndFinish,
  submitNoOp,
  type WorkOrder,
} from './support/drover-client.js';
import { runBounded } from './support/run-bounds.js';
import { againstTarget, percentile } from './support/stats.js';
import { withServer } from './support/with-server.js';

const { values: args } = parseArgs({
  options: {
    db: { type: 'string', default: 'both' },
    submissions: { type: 'string' },
    budget: { type: 'string', default: '300' },
    quick: { type: 'boolean', default: false },
  },
});
const KINDS = databaseKinds(args.db);
const SUBMISSIONS = positive('submissions', args.submissions ?? (args.quick ? '50' : '200'));
const BUDGET_S = positive('budget', args.budget);
/** Time for the node's next acquire to reach the server and wait there before a submission. */
const SETTLE_MS = 20;
/** Submissions made first and not counted: the server's first queries compile and plan. */
const WARMUP = 5;
const TARGET_P50_MS = 3;
const TARGET_P99_MS = 10;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A promise with its resolve function, made afresh for each submission. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

function run(kind: DbKind) {
  let stopped = false;
  let waiting = deferred<void>();
  let acquired = deferred<number>();
  return withServer(kind, 4, async (_server, client) => {
    const [nodeId] = await registerNodes(client, 1, { prefix: 'pickup-node' });
    // The idle node: long-polls, and runs each task it gets to its end before waiting again.
    const node = (async () => {
      while (!stopped) {
        waiting.resolve();
        const got = await client.request<WorkOrder>('POST', `/nodes/${nodeId}/acquire?wait=30`);
        const at = performance.now();
        if (got.status === 204) continue;
        if (got.status !== 200) throw new Error(`acquire answered ${got.status}`);
        acquired.resolve(at);
        await startAndFinish(client, nodeId!, got.body);
      }
    })().catch((error: unknown) => {
      if (!stopped) throw error;
    });

    const fromAnswer: number[] = [];
    const fromSend: number[] = [];
    for (let i = -WARMUP; i < SUBMISSIONS; i++) {
      await waiting.promise;
      await sleep(SETTLE_MS);
      waiting = deferred<void>();
      const sent = performance.now();
      await submitNoOp(client, `pickup ${i}`);
      const answered = performance.now();
      const at = await Promise.race([
        acquired.promise,
        sleep(10_000).then(() =>
          Promise.reject(new Error(`submission ${i} never reached the node`)),
        ),
      ]);
      acquired = deferred<number>();
      if (i < 0) continue;
      fromAnswer.push(at - answered);
      fromSend.push(at - sent);
    }
    stopped = true;
    client.close();
    await node;
    return { fromAnswer, fromSend };
  }).finally(() => (stopped = true));
}

await runBounded(BUDGET_S, async () => {
  const rows = [];
  for (const kind of KINDS) {
    console.log(`pickup: ${kind}, ${SUBMISSIONS} one-task jobs submitted to one waiting node…`);
    const { fromAnswer, fromSend } = await run(kind);
    const p50 = percentile(fromAnswer, 50);
    const p99 = percentile(fromAnswer, 99);
    console.log(`  ${kind} p50 ${againstTarget(p50, TARGET_P50_MS)}`);
    console.log(`  ${kind} p99 ${againstTarget(p99, TARGET_P99_MS)}`);
    rows.push({
      db: kind,
      submissions: fromAnswer.length,
      'p50 ms': p50.toFixed(2),
      'p99 ms': p99.toFixed(2),
      'min ms': Math.min(...fromAnswer).toFixed(2),
      'max ms': Math.max(...fromAnswer).toFixed(2),
      'p50 from send ms': percentile(fromSend, 50).toFixed(2),
      'p99 from send ms': percentile(fromSend, 99).toFixed(2),
    });
  }
  console.log(
    `submission 2xx → acquire answer at the node; targets p50 ≤ ${TARGET_P50_MS} ms, p99 ≤ ${TARGET_P99_MS} ms`,
  );
  console.table(rows);
});
