/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../helpers/databases.js';
import { eventually } from '../helpers/eventually.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import {
  acquire,
  executionsOf,
  expectError,
  expectStatus,
  getJob,
  register,
  report,
  submit,
} from './support.js';

const LEASE_MS = 1000;

for (const database of TEST_DATABASES) {
  describe(`native API: leases and fencing (${database.name})`, () => {
    let t: TestServer;
    let a: any;
    let b: any;
    before(async () => {
      t = await startTestServer(database, { settings: { leaseMs: LEASE_MS } });
      a = await register(t, 'lease-a');
      b = await register(t, 'lease-b');
    });
    after(async () => {
      await t?.close();
    });

    const exe = async (id: number) =>
      expectStatus(await t.request('GET', `/api/v1/executions/${id}`), 200).body;
    const task = async (id: number) =>
      expectStatus(await t.request('GET', `/api/v1/tasks/${id}`), 200).body;

    it('a heartbeat in time keeps the lease through a reaper tick', async () => {
      const job = await submit(t, { name: 'kept alive' });
      const order = await acquire(t, a.id);
      const id = order.execution.id;
      expectStatus(await report(t, id, 'start', { nodeId: a.id }), 200);
      for (let i = 0; i < 3; i++) {
        t.clock.advance(800);
        const hb = await t.request('POST', `/api/v1/nodes/${a.id}/heartbeat`, { executions: [id] });
        assert.deepEqual(hb.body, { stop: [], leaseMs: LEASE_MS });
        const reaped = await t.engine.reaper.tick();
        assert.equal(reaped.lost, 0);
      }
      assert.equal((await exe(id)).state, 'RUNNING');
      assert.equal((await exe(id)).leaseExpiresAt, new Date(t.clock.now + LEASE_MS).toISOString());
      expectStatus(await report(t, id, 'finish', { nodeId: a.id, success: true }), 200);
      assert.equal((await getJob(t, job.id)).state, 'COMPLETED');
    });

    it('after the reaper took a lost lease, the late node is refused and changes nothing', async () => {
      const job = await submit(t, { name: 'lost and found' });
      const first = await acquire(t, a.id);
      expectStatus(await report(t, first.execution.id, 'start', { nodeId: a.id }), 200);
      expectStatus(
        await report(t, first.execution.id, 'progress', { nodeId: a.id, progress: 30 }),
        200,
      );

      // Node A goes silent past its lease; the reaper notices.
      t.clock.advance(LEASE_MS + 500);
      const reaped = await t.engine.reaper.tick();
      assert.equal(reaped.lost, 1);
      const lost = await exe(first.execution.id);
      assert.equal(lost.state, 'FAILED');
      assert.equal(lost.error.name, 'node-lost');
      const tk = await task(first.task.id);
      assert.equal(tk.state, 'QUEUED');
      assert.equal(tk.tries, 1);
      assert.equal(tk.nodeId, null);

      // Node B takes the same task under a new execution (a new fencing token).
      const second = await acquire(t, b.id);
      assert.ok(second, 'node B got no work');
      assert.equal(second.task.id, first.task.id);
      assert.notEqual(second.execution.id, first.execution.id);
      assert.equal(second.execution.exeNum, 2);
      assert.equal(second.execution.nodeId, b.id);
      expectStatus(await report(t, second.execution.id, 'start', { nodeId: b.id }), 200);

      const taskBefore = await task(first.task.id);
      const firstBefore = await exe(first.execution.id);
      const secondBefore = await exe(second.execution.id);
      const jobBefore = await getJob(t, job.id);
      assert.equal(taskBefore.state, 'RUNNING');
      assert.equal(taskBefore.nodeId, b.id);
      assert.equal(taskBefore.lastExecutionId, second.execution.id);

      // A comes back from the dead and reports success on its old token.
      const late = await report(t, first.execution.id, 'finish', {
        nodeId: a.id,
        success: true,
        exitCode: 0,
      });
      expectError(late, 409, 'STALE_LEASE');
      assert.match(late.body.message, /is FAILED; stop working on it/);
      for (const what of ['start', 'heartbeat', 'abort'] as const) {
        expectError(
          await report(t, first.execution.id, what, { nodeId: a.id }),
          409,
          'STALE_LEASE',
        );
      }
      expectError(
        await report(t, first.execution.id, 'finish', {
          nodeId: a.id,
          success: false,
          exitCode: 1,
        }),
        409,
        'STALE_LEASE',
      );
      const hb = await t.request('POST', `/api/v1/nodes/${a.id}/heartbeat`, {
        executions: [first.execution.id],
      });
      assert.deepEqual(hb.body, { stop: [first.execution.id], leaseMs: LEASE_MS });

      assert.deepEqual(await task(first.task.id), taskBefore);
      assert.deepEqual(await exe(first.execution.id), firstBefore);
      assert.deepEqual(await exe(second.execution.id), secondBefore);
      const jobAfter = await getJob(t, job.id);
      assert.equal(jobAfter.state, jobBefore.state);
      assert.deepEqual(jobAfter.tasks, jobBefore.tasks);

      // B's work is unaffected and completes the job.
      const fin = await report(t, second.execution.id, 'finish', { nodeId: b.id, success: true });
      expectStatus(fin, 200);
      assert.equal(fin.body.state, 'COMPLETED');
      const done = await getJob(t, job.id);
      assert.equal(done.state, 'COMPLETED');
      assert.equal(done.tasks.completed, 1);
      const executions = await executionsOf(t, job.id);
      assert.deepEqual(
        executions.map((e) => [e.nodeId, e.state]),
        [
          [a.id, 'FAILED'],
          [b.id, 'COMPLETED'],
        ],
      );
    });

    it('a late report that arrives before the reaper ran is refused and requeues the task', async () => {
      const job = await submit(t, { name: 'reaped on the spot' });
      const first = await acquire(t, a.id);
      expectStatus(await report(t, first.execution.id, 'start', { nodeId: a.id }), 200);

      t.clock.advance(LEASE_MS + 1);
      // No reaper tick: the late report itself finds the lease gone.
      const late = await report(t, first.execution.id, 'finish', { nodeId: a.id, success: true });
      expectError(late, 409, 'STALE_LEASE');
      assert.match(late.body.message, /lease .* expired/);

      const lost = await exe(first.execution.id);
      assert.equal(lost.state, 'FAILED');
      assert.equal(lost.error.name, 'node-lost');
      const tk = await task(first.task.id);
      assert.equal(tk.state, 'QUEUED');
      assert.equal(tk.tries, 1);
      const j = await getJob(t, job.id);
      assert.equal(j.tasks.queued, 1);
      assert.equal(j.tasks.completed, 0);

      // The reaper finds nothing left to do.
      assert.equal((await t.engine.reaper.tick()).lost, 0);

      const second = await acquire(t, b.id);
      assert.equal(second.task.id, first.task.id);
      expectStatus(
        await report(t, second.execution.id, 'finish', { nodeId: b.id, success: true }),
        200,
      );
      assert.equal((await getJob(t, job.id)).state, 'COMPLETED');
    });

    it('a lease lost on the last try fails the job', async () => {
      const job = await submit(t, { name: 'one try', maxTries: 1 });
      const order = await acquire(t, a.id);
      expectStatus(await report(t, order.execution.id, 'start', { nodeId: a.id }), 200);
      t.clock.advance(LEASE_MS + 1);
      assert.equal((await t.engine.reaper.tick()).lost, 1);
      const tk = await task(order.task.id);
      assert.equal(tk.state, 'FAILED');
      const j = await getJob(t, job.id);
      assert.equal(j.state, 'FAILED');
      assert.equal(j.error.name, 'node-lost');
      assert.equal(await acquire(t, b.id), undefined);
    });
  });
}

/*
 * A node counts its leases from its sending of the request that took or renewed them (the
 * server dates them later, on arrival or after), so it stops a task before the server may
 * give it to another node. A claim's answer says how long a lease lasts and how long the
 * claim waited on the server before it took its tasks.
 */
for (const database of TEST_DATABASES) {
  describe(`native API: a claim dates its leases for the node (${database.name})`, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(database, { settings: { leaseMs: LEASE_MS } });
    });
    after(async () => {
      await t?.close();
    });

    const claim = (nodeId: number, body: Record<string, unknown>) =>
      t.request('POST', `/api/v1/nodes/${nodeId}/claims`, body);

    it('leaseMs always, and waitedMs: the long-poll wait before the tasks were taken', async () => {
      const node = await register(t, 'claims-dated', { slots: 2 });
      assert.deepEqual(expectStatus(await claim(node.id, { max: 2 }), 200).body, { orders: [] });

      const waiting = claim(node.id, { max: 2, wait: 30 });
      await eventually(() => assert.equal(t.engine.dispatcher.parked, 1));
      t.clock.advance(1500);
      await submit(t, { name: 'woke the claim' });
      const woken = expectStatus(await waiting, 200).body;
      assert.equal(woken.orders.length, 1);
      assert.equal(woken.leaseMs, LEASE_MS);
      assert.equal(woken.waitedMs, 1500);
      assert.equal(
        woken.orders[0].execution.leaseExpiresAt,
        new Date(t.clock.now + LEASE_MS).toISOString(),
      );

      await submit(t, { name: 'there already' });
      const atOnce = expectStatus(await claim(node.id, { max: 1, wait: 30 }), 200).body;
      assert.equal(atOnce.orders.length, 1);
      assert.equal(atOnce.leaseMs, LEASE_MS);
      assert.equal(atOnce.waitedMs, 0);
    });
  });
}
