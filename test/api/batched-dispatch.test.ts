/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import { acquire, allPages, expectStatus, register, report, submit } from './support.js';

/*
 * The batched node protocol: claims of several tasks, optionally started, and finishes
 * reported in batches, each item answered on its own. The drain runs 2,000 tasks here;
 * DROVER_TEST_FULL=1 runs the 20,000 of the farm-scale acceptance.
 */

const DRAIN_TASKS = process.env.DROVER_TEST_FULL ? 20_000 : 2_000;
const DRAIN_NODES = 50;
const BATCH = 10;

async function claim(t: TestServer, nodeId: number, body: Record<string, unknown>) {
  return expectStatus(await t.request('POST', `/api/v1/nodes/${nodeId}/claims`, body), 200, 'claim')
    .body.orders as any[];
}

async function finishes(t: TestServer, nodeId: number, items: Record<string, unknown>[]) {
  return expectStatus(
    await t.request('POST', `/api/v1/nodes/${nodeId}/finishes`, { finishes: items }),
    200,
    'finishes',
  ).body.results as any[];
}

const succeeded = (orders: any[]) =>
  orders.map((o) => ({ executionId: o.execution.id, success: true, exitCode: 0 }));

/**
 * One node: claims a batch, already started, and reports its finishes in one call, until
 * none is left. `carry`: the finishes ride on the next claim instead (one call per batch).
 */
async function drain(
  t: TestServer,
  nodeId: number,
  carry: boolean,
): Promise<{ executionId: number; taskId: number }[]> {
  const got: { executionId: number; taskId: number }[] = [];
  let toReport: any[] = [];
  for (;;) {
    const body: Record<string, unknown> = { max: BATCH, start: true };
    if (toReport.length > 0) body.finishes = succeeded(toReport);
    const answer = expectStatus(
      await t.request('POST', `/api/v1/nodes/${nodeId}/claims`, body),
      200,
      'claim',
    ).body;
    if (toReport.length > 0) {
      assert.deepEqual(
        answer.results.map((r: any) => [r.executionId, r.status]),
        toReport.map((o) => [o.execution.id, 200]),
      );
    } else {
      assert.equal(answer.results, undefined, 'no finishes, no results');
    }
    const orders = answer.orders as any[];
    toReport = [];
    if (orders.length === 0) return got;
    for (const o of orders) {
      assert.equal(o.execution.state, 'RUNNING');
      assert.equal(o.execution.nodeId, nodeId);
      got.push({ executionId: o.execution.id, taskId: o.task.id });
    }
    if (carry) {
      toReport = orders;
      continue;
    }
    const results = await finishes(t, nodeId, succeeded(orders));
    assert.deepEqual(
      results.map((r) => r.status),
      orders.map(() => 200),
    );
  }
}

for (const database of TEST_DATABASES) {
  describe(`native API: batched node protocol (${database.name})`, () => {
    it(
      `${DRAIN_NODES} nodes claiming ${BATCH} at a time drain ${DRAIN_TASKS} tasks, each run once`,
      { timeout: 600_000 },
      async () => {
        const t = await startTestServer(database);
        try {
          const jobs = [];
          for (let left = DRAIN_TASKS, j = 0; left > 0; j++) {
            const n = Math.min(left, 1000);
            jobs.push(await submit(t, { name: `drain ${j}`, frames: `1-${n}`, priority: j % 3 }));
            left -= n;
          }
          const nodes = [];
          for (let n = 0; n < DRAIN_NODES; n++) {
            nodes.push(await register(t, `drain-${n}`, { slots: BATCH }));
          }
          // Half the nodes report their finishes on their next claim.
          const got = (await Promise.all(nodes.map((n, i) => drain(t, n.id, i % 2 === 1)))).flat();
          assert.equal(got.length, DRAIN_TASKS);
          assert.equal(new Set(got.map((g) => g.taskId)).size, DRAIN_TASKS, 'a task went twice');

          const executions = await allPages(t, '/api/v1/executions');
          assert.equal(executions.length, DRAIN_TASKS, 'one execution per task');
          assert.ok(executions.every((e) => e.state === 'COMPLETED'));
          assert.equal(new Set(executions.map((e) => e.taskId)).size, DRAIN_TASKS);
          for (const job of jobs) {
            const j = expectStatus(await t.request('GET', `/api/v1/jobs/${job.id}`), 200).body;
            assert.equal(j.state, 'COMPLETED');
            assert.equal(j.tasks.completed, job.tasks.total);
            // Execution numbers count the job's executions without gaps or repeats.
            const nums = executions
              .filter((e) => e.jobId === job.id)
              .map((e) => e.exeNum)
              .sort((a, b) => a - b);
            assert.deepEqual(
              nums,
              Array.from({ length: job.tasks.total }, (_, i) => i + 1),
            );
          }
        } finally {
          await t.close();
        }
      },
    );

    it('a claim takes at most the free slots, best job first, started only when asked', async () => {
      const t = await startTestServer(database);
      try {
        const low = await submit(t, { name: 'low', frames: '1-6', priority: 10 });
        const high = await submit(t, { name: 'high', frames: '1-3', priority: 90 });
        const node = await register(t, 'n', { slots: 4 });
        const first = await claim(t, node.id, { max: 10 });
        assert.equal(first.length, 4, 'four slots, four tasks');
        assert.deepEqual(
          first.map((o) => [o.job.id, o.task.index]),
          [
            [high.id, 0],
            [high.id, 1],
            [high.id, 2],
            [low.id, 0],
          ],
        );
        assert.ok(first.every((o) => o.execution.state === 'ACQUIRED'));
        assert.equal(first[0].jobType.name, 'command-line');
        assert.deepEqual(await claim(t, node.id, { max: 1 }), [], 'no free slot left');
        // The single-task protocol goes on working beside it.
        expectStatus(await report(t, first[3].execution.id, 'start', { nodeId: node.id }), 200);
        expectStatus(
          await report(t, first[3].execution.id, 'finish', { nodeId: node.id, success: true }),
          200,
        );
        const next = await acquire(t, node.id);
        assert.equal(next.job.id, low.id);
        assert.equal(next.task.index, 1);
        expectStatus(
          await t.request('POST', `/api/v1/nodes/${node.id}/claims`, { max: 0 }),
          400,
          'max 0',
        );
        expectStatus(
          await t.request('POST', `/api/v1/nodes/${node.id}/finishes`, { finishes: [] }),
          400,
          'no finishes',
        );
      } finally {
        await t.close();
      }
    });

    it('a claim that carries finishes records them first, each answered on its own, and takes the slots they freed', async () => {
      const t = await startTestServer(database);
      try {
        const job = await submit(t, { name: 'carried', frames: '1-5' });
        const node = await register(t, 'carrier', { slots: 2 });
        const other = await register(t, 'other', { slots: 1 });
        const first = await claim(t, node.id, { max: 2, start: true });
        assert.equal(first.length, 2);
        const theirs = await claim(t, other.id, { max: 1, start: true });
        // One success, one failure, one report of another node's execution, one unknown.
        const answer = expectStatus(
          await t.request('POST', `/api/v1/nodes/${node.id}/claims`, {
            max: 2,
            start: true,
            finishes: [
              { executionId: first[0].execution.id, success: true, exitCode: 0 },
              { executionId: first[1].execution.id, success: false, exitCode: 3 },
              { executionId: theirs[0].execution.id, success: true },
              { executionId: 999_999, success: true },
            ],
          }),
          200,
          'claim with finishes',
        ).body;
        assert.deepEqual(
          answer.results.map((r: any) => r.status),
          [200, 200, 409, 404],
        );
        // Both slots were freed by the finishes it carried, so it took two more tasks.
        assert.equal(answer.orders.length, 2);
        const executions = await allPages(t, `/api/v1/executions?job=${job.id}`);
        const state = (id: number) => executions.find((e) => e.id === id)?.state;
        assert.equal(state(first[0].execution.id), 'COMPLETED');
        assert.equal(state(first[1].execution.id), 'FAILED');
        assert.equal(state(theirs[0].execution.id), 'RUNNING', 'another node cannot finish it');

        // Reported again, a finish is refused (409) and the claim still answers.
        const again = expectStatus(
          await t.request('POST', `/api/v1/nodes/${node.id}/claims`, {
            max: 1,
            finishes: [{ executionId: first[0].execution.id, success: true }],
          }),
          200,
        ).body;
        assert.deepEqual(
          again.results.map((r: any) => r.status),
          [409],
        );
        assert.equal(again.orders.length, 0, 'both slots are still busy');

        // A malformed finish refuses the whole call, before anything is written.
        expectStatus(
          await t.request('POST', `/api/v1/nodes/${node.id}/claims`, {
            max: 1,
            finishes: [{ executionId: answer.orders[0].execution.id, success: 'yes' }],
          }),
          400,
          'a bad finish item',
        );
        const after = await allPages(t, `/api/v1/executions?job=${job.id}`);
        assert.equal(
          after.find((e) => e.id === answer.orders[0].execution.id)?.state,
          'RUNNING',
          'nothing of a refused call is recorded',
        );
        expectStatus(
          await t.request('POST', `/api/v1/nodes/${node.id}/claims`, {
            finishes: Array.from({ length: 101 }, (_, i) => ({
              executionId: i + 1,
              success: true,
            })),
          }),
          400,
          'more finishes than one call may carry',
        );
      } finally {
        await t.close();
      }
    });

    it('a node killed mid-batch loses its leases, its tasks run elsewhere, and its late reports get 409', async () => {
      const t = await startTestServer(database);
      try {
        const job = await submit(t, { name: 'killed', frames: '1-5' });
        const dead = await register(t, 'dead', { slots: 5 });
        const alive = await register(t, 'alive', { slots: 5 });
        const orders = await claim(t, dead.id, { max: 5, start: true });
        assert.equal(orders.length, 5);
        const ids = orders.map((o) => o.execution.id);
        // Two finishes arrive; then the node dies without a word.
        const firstTwo = await finishes(
          t,
          dead.id,
          ids.slice(0, 2).map((executionId) => ({ executionId, success: true })),
        );
        assert.deepEqual(
          firstTwo.map((r) => r.status),
          [200, 200],
        );
        assert.deepEqual(await claim(t, alive.id, { max: 5 }), [], 'the rest are leased');

        t.clock.advance(t.engine.settings.leaseMs + 1);
        await t.engine.reaper.tick();
        const retried = await claim(t, alive.id, { max: 5, start: true });
        assert.deepEqual(
          retried.map((o) => o.task.index).sort(),
          [2, 3, 4],
          'the three unfinished tasks run on the other node',
        );

        // The dead node comes back with its stale tokens: each is refused, nothing changes.
        const late = await finishes(t, dead.id, [
          ...ids.slice(2).map((executionId) => ({ executionId, success: true })),
          { executionId: retried[0].execution.id, success: true },
        ]);
        assert.deepEqual(
          late.map((r) => [r.status, r.code]),
          [
            [409, 'STALE_LEASE'],
            [409, 'STALE_LEASE'],
            [409, 'STALE_LEASE'],
            [409, 'STALE_LEASE'],
          ],
        );
        const lone = await report(t, ids[2], 'finish', { nodeId: dead.id, success: true });
        assert.equal(lone.status, 409);

        const done = await finishes(
          t,
          alive.id,
          retried.map((o) => ({ executionId: o.execution.id, success: true })),
        );
        assert.ok(done.every((r) => r.status === 200));
        const after = expectStatus(await t.request('GET', `/api/v1/jobs/${job.id}`), 200).body;
        assert.equal(after.state, 'COMPLETED');
        const executions = await allPages(t, `/api/v1/executions?job=${job.id}`);
        assert.deepEqual(
          executions.map((e) => [e.nodeId === dead.id ? 'dead' : 'alive', e.state]).sort(),
          [
            ['alive', 'COMPLETED'],
            ['alive', 'COMPLETED'],
            ['alive', 'COMPLETED'],
            ['dead', 'COMPLETED'],
            ['dead', 'COMPLETED'],
            ['dead', 'FAILED'],
            ['dead', 'FAILED'],
            ['dead', 'FAILED'],
          ],
        );
      } finally {
        await t.close();
      }
    });

    it('a batch of successes records each one its own exit code and timeout, and numbers executions in task order', async () => {
      const t = await startTestServer(database);
      try {
        const job = await submit(t, { name: 'codes', frames: '1-4' });
        const node = await register(t, 'n', { slots: 4 });
        const orders = await claim(t, node.id, { max: 4, start: true });
        assert.deepEqual(
          orders.map((o) => [o.task.index, o.execution.exeNum]),
          [
            [0, 1],
            [1, 2],
            [2, 3],
            [3, 4],
          ],
        );
        const [a, b, c, d] = orders.map((o) => o.execution.id);
        const results = await finishes(t, node.id, [
          { executionId: a, success: true, exitCode: 0 },
          { executionId: b, success: true, timedOut: true },
          { executionId: c, success: true, exitCode: 2 },
          { executionId: d, success: true, exitCode: 0 },
        ]);
        assert.deepEqual(
          results.map((r) => r.status),
          [200, 200, 200, 200],
        );
        const executions = await allPages(t, '/api/v1/executions');
        assert.deepEqual(
          executions.map((e) => [e.id, e.state, e.exitCode, e.timedOut]),
          [
            [a, 'COMPLETED', 0, false],
            [b, 'COMPLETED', null, true],
            [c, 'COMPLETED', 2, false],
            [d, 'COMPLETED', 0, false],
          ],
        );
        const done = expectStatus(
          await t.request('GET', `/api/v1/jobs/${job.id}`),
          200,
          'job',
        ).body;
        assert.equal(done.state, 'COMPLETED');
        assert.equal(done.tasks.completed, 4);
        assert.equal(done.tasks.running, 0);
      } finally {
        await t.close();
      }
    });

    it('a batch with a bad item answers each item as it would have been answered alone', async () => {
      const t = await startTestServer(database);
      try {
        await submit(t, { name: 'mixed', frames: '1-3', maxTries: 1 });
        const node = await register(t, 'n', { slots: 3 });
        const orders = await claim(t, node.id, { max: 3, start: true });
        const [a, b, c] = orders.map((o) => o.execution.id);
        const results = await finishes(t, node.id, [
          { executionId: a, success: true },
          { executionId: b, success: false, error: { name: 'no-such-error' } },
          { executionId: 999_999, success: true },
          { executionId: c, success: false, exitCode: 3 },
        ]);
        assert.deepEqual(
          results.map((r) => [r.executionId, r.status]),
          [
            [a, 200],
            [b, 400],
            [999_999, 404],
            [c, 200],
          ],
        );
        const states = await allPages(t, '/api/v1/executions');
        assert.deepEqual(
          states.map((e) => [e.id, e.state]),
          [
            [a, 'COMPLETED'],
            [b, 'RUNNING'],
            [c, 'FAILED'],
          ],
        );
      } finally {
        await t.close();
      }
    });

    // PostgreSQL writes the node protocol in two transactions at once, whose claims move
    // their jobs' counters only at the end (migration 0030): claims of one node that land
    // in both must still count each other's slots, and finishes beside them must leave the
    // counters exact.
    it('claims of one node sent at once never take more than its free slots, beside other nodes finishing the same job', async () => {
      const t = await startTestServer(database);
      try {
        const job = await submit(t, { name: 'crowded', frames: '1-200' });
        const node = await register(t, 'four', { slots: 4 });
        const others = [];
        for (let i = 0; i < 6; i++) others.push(await register(t, `other-${i}`, { slots: 2 }));
        let stop = false;
        const busy = others.map(async (o) => {
          while (!stop) {
            const orders = await claim(t, o.id, { max: 2, start: true });
            if (orders.length === 0) return;
            await finishes(t, o.id, succeeded(orders));
          }
        });
        let mine = 0;
        for (let round = 0; round < 12; round++) {
          const answers = await Promise.all(
            Array.from({ length: 6 }, () => claim(t, node.id, { max: 4, start: true })),
          );
          const orders = answers.flat();
          assert.ok(orders.length <= 4, `round ${round}: ${orders.length} tasks on 4 slots`);
          const live = expectStatus(await t.request('GET', `/api/v1/nodes/${node.id}`), 200).body
            .currentExecutions;
          assert.ok(live.length <= 4, `round ${round}: ${live.length} live on 4 slots`);
          mine += orders.length;
          if (orders.length > 0) await finishes(t, node.id, succeeded(orders));
        }
        stop = true;
        await Promise.all(busy);
        assert.ok(mine > 0, 'the node got work');
        // Whatever is left, drained by one node; then the counters add up.
        const rest = await drain(t, node.id, false);
        const done = expectStatus(await t.request('GET', `/api/v1/jobs/${job.id}`), 200).body;
        assert.equal(done.state, 'COMPLETED', `${rest.length} drained at the end`);
        assert.deepEqual(
          [done.tasks.completed, done.tasks.running, done.tasks.queued, done.tasks.failed],
          [200, 0, 0, 0],
        );
        const executions = await allPages(t, `/api/v1/executions?job=${job.id}`);
        assert.deepEqual(
          executions.map((e) => e.exeNum).sort((x: number, y: number) => x - y),
          Array.from({ length: 200 }, (_, i) => i + 1),
        );
      } finally {
        await t.close();
      }
    });
  });
}
