import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WaitQueue, wakeFor } from '../../src/engine/dispatch/wait-queue.js';
import { submitJob } from '../../src/engine/jobs/job-submission.js';
import { registerNode } from '../../src/engine/nodes/node-registry.js';
import { setPool } from '../../src/engine/pools/pools.js';
import { TEST_DATABASES, startTestEngine } from '../helpers/databases.js';
import { eventually } from '../helpers/eventually.js';

const spec = (frames: string, pool = '') => ({
  type: 'command-line',
  user: 'alice',
  frames,
  pool,
  parameters: { executable: 'echo' },
});

describe('wait queue', () => {
  it('wakes as many waiters as an event made tasks claimable, oldest first', () => {
    const queue = new WaitQueue();
    const woken: number[] = [];
    for (let n = 1; n <= 5; n++) queue.add(n, () => woken.push(n));
    queue.handle({ type: 'job.created', jobId: 1, state: 'QUEUED', queued: 2 });
    assert.deepEqual(woken, [1, 2]);
    queue.handle({
      type: 'task.state',
      jobId: 1,
      taskIds: [],
      count: 1,
      from: 'RUNNING',
      to: 'COMPLETED',
    });
    assert.deepEqual(woken, [1, 2], 'a task that is not queued wakes nobody');
    queue.handle({ type: 'node.state', nodeId: 5, state: 'ONLINE', enabled: true });
    assert.deepEqual(woken, [1, 2, 5], 'a node event wakes that node');
    queue.handle({ type: 'job.updated', jobId: 1, fields: ['pool'] });
    assert.deepEqual(woken, [1, 2, 5, 3, 4], 'a change of who may run what wakes everyone');
    assert.equal(queue.size, 0);
  });

  it('says which events free work', () => {
    assert.deepEqual(
      wakeFor({
        type: 'task.state',
        jobId: 1,
        taskIds: [],
        count: 7,
        from: 'RUNNING',
        to: 'QUEUED',
      }),
      { count: 7 },
    );
    assert.equal(wakeFor({ type: 'log.appended', jobId: 1, executionId: 1, lines: 3 }), null);
    assert.equal(wakeFor({ type: 'pool.changed', name: 'farm' }), 'all');
    assert.equal(wakeFor({ type: 'job.state', jobId: 1, from: 'QUEUED', to: 'RUNNING' }), null);
    assert.equal(wakeFor({ type: 'job.state', jobId: 1, from: 'SUSPENDED', to: 'QUEUED' }), 'all');
    assert.deepEqual(
      wakeFor({
        type: 'execution.state',
        jobId: 1,
        taskId: 1,
        executionId: 1,
        nodeId: 4,
        from: 'RUNNING',
        to: 'COMPLETED',
      }),
      { node: 4 },
    );
  });
});

for (const database of TEST_DATABASES) {
  describe(`dispatcher wakes one node per new task (${database.name})`, () => {
    it('one task submitted to 10 waiting nodes costs one look, not ten', async () => {
      const t = await startTestEngine(database);
      try {
        const { ctx, dispatcher } = t.engine;
        let registered = 0;
        ctx.bus.subscribe((e) => void (e.type === 'node.state' && registered++));
        const nodes = [];
        for (let n = 0; n < 10; n++) nodes.push(await registerNode(ctx, { name: `n${n}` }));
        // With PostgreSQL the registrations' events come back through LISTEN; each would
        // wake its own node if it came while the node waits.
        await eventually(() => assert.equal(registered, 10));
        const waiting = nodes.map((n) => dispatcher.acquire(n.id, 20_000));
        await eventually(() => assert.equal(dispatcher.parked, 10, 'each node looked and waits'));
        const before = dispatcher.looks;
        await submitJob(ctx, spec('1'));
        const winner = await Promise.race(waiting);
        assert.ok(winner, 'a node got the task');
        // Give any other wake-up time to show itself before counting.
        await new Promise((r) => setTimeout(r, 200));
        assert.equal(dispatcher.looks, before + 1, 'one node was woken for one task');
        dispatcher.close();
        const results = await Promise.all(waiting);
        assert.equal(results.filter(Boolean).length, 1);
      } finally {
        await t.close();
      }
    });

    it('a wake that the woken node cannot use is passed on to one that can', async () => {
      const t = await startTestEngine(database);
      try {
        const { ctx, dispatcher } = t.engine;
        let registered = 0;
        ctx.bus.subscribe((e) => void (e.type === 'node.state' && registered++));
        const other = await registerNode(ctx, { name: 'other', pools: ['other'] });
        const render = await registerNode(ctx, { name: 'render', pools: ['render'] });
        await eventually(() => assert.equal(registered, 2));
        // The node of the other pool waits first, so the wake goes to it first.
        const first = dispatcher.acquire(other.id, 20_000);
        await eventually(() => assert.equal(dispatcher.parked, 1));
        const second = dispatcher.acquire(render.id, 20_000);
        await eventually(() => assert.equal(dispatcher.parked, 2));
        await submitJob(ctx, spec('1', 'render'));
        const got = await second;
        assert.ok(got, 'the render node got the render task');
        assert.equal(got.job.pool, 'render');
        dispatcher.close();
        assert.equal(await first, undefined);
      } finally {
        await t.close();
      }
    });

    it("a pool's burst limit raised wakes the nodes waiting for it, not at their next poll", async () => {
      const t = await startTestEngine(database);
      try {
        const { ctx, dispatcher } = t.engine;
        let registered = 0;
        ctx.bus.subscribe((e) => void (e.type === 'node.state' && registered++));
        const shares = (burst: number) => [{ user: 'alice', share: 1, burst }];
        await setPool(ctx, 'farm', { mode: 'weighted', shares: shares(1) });
        const n1 = await registerNode(ctx, { name: 'n1', pools: ['farm'] });
        const n2 = await registerNode(ctx, { name: 'n2', pools: ['farm'] });
        await eventually(() => assert.equal(registered, 2));
        await submitJob(ctx, spec('1-2', 'farm'));
        assert.ok(await dispatcher.tryAcquire(n1.id), 'alice runs one task, her burst limit');
        const stop = new AbortController();
        const waiting = dispatcher.acquire(n2.id, 60_000, stop.signal);
        await eventually(() => assert.equal(dispatcher.parked, 1, 'n2 waits: alice is at her cap'));
        await setPool(ctx, 'farm', { mode: 'weighted', shares: shares(2) });
        // Far below the wait, far above a wake: without one, n2 would sit out its minute.
        const timer = setTimeout(() => stop.abort(), 10_000);
        const got = await waiting;
        clearTimeout(timer);
        assert.ok(got, 'n2 was woken by the change and took the second task');
      } finally {
        await t.close();
      }
    });
  });
}
