/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import { acquire, expectError, expectStatus, register, report, submit } from './support.js';

/*
 * Issue 17: what a node measured of a command (CPU, wall, peak memory, GPU) is stored on the
 * execution by every finish path (a lone finish, a batch of finishes, a failure) and shown
 * by the native API; a figure out of range is refused.
 */

const NONE = { cpuSeconds: null, wallSeconds: null, peakMemoryBytes: null, gpuSeconds: null };

for (const database of TEST_DATABASES) {
  describe(`native API: execution usage (${database.name})`, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(database);
    });
    after(async () => {
      await t?.close();
    });

    const exe = async (id: number) =>
      expectStatus(await t.request('GET', `/api/v1/executions/${id}`), 200).body;

    it('a lone finish stores the figures; one without them stores none', async () => {
      const node = await register(t, 'usage-one');
      await submit(t, { name: 'measured', frames: '1-2', chunkSize: 1 });
      const a = await acquire(t, node.id);
      const usage = { cpuSeconds: 12.5, wallSeconds: 30.25, peakMemoryBytes: 209_715_200 };
      const fin = await report(t, a.execution.id, 'finish', {
        nodeId: node.id,
        success: true,
        exitCode: 0,
        usage,
      });
      expectStatus(fin, 200);
      assert.deepEqual(fin.body.usage, { ...usage, gpuSeconds: null });
      assert.deepEqual(await exe(a.execution.id), fin.body);

      const b = await acquire(t, node.id);
      expectStatus(
        await report(t, b.execution.id, 'finish', { nodeId: node.id, success: true }),
        200,
      );
      assert.deepEqual((await exe(b.execution.id)).usage, NONE);
    });

    it('a batch of finishes stores each its own figures, and a failure stores its own', async () => {
      const node = await register(t, 'usage-batch', { slots: 4 });
      await submit(t, { name: 'batch', frames: '1-3', chunkSize: 1, maxTries: 1 });
      const claim = await t.request('POST', `/api/v1/nodes/${node.id}/claims`, { max: 3 });
      expectStatus(claim, 200);
      const ids = claim.body.orders.map((o: any) => o.execution.id as number);
      assert.equal(ids.length, 3);
      const res = await t.request('POST', `/api/v1/nodes/${node.id}/finishes`, {
        finishes: [
          { executionId: ids[0], success: true, usage: { cpuSeconds: 1, wallSeconds: 2 } },
          {
            executionId: ids[1],
            success: true,
            usage: { cpuSeconds: 3.5, peakMemoryBytes: 1024, gpuSeconds: 7 },
          },
          {
            executionId: ids[2],
            success: false,
            exitCode: 2,
            usage: { cpuSeconds: 0.25, wallSeconds: 0.5, peakMemoryBytes: 4096 },
          },
        ],
      });
      expectStatus(res, 200);
      assert.deepEqual(
        res.body.results.map((r: any) => r.status),
        [200, 200, 200],
      );
      assert.deepEqual((await exe(ids[0])).usage, { ...NONE, cpuSeconds: 1, wallSeconds: 2 });
      assert.deepEqual((await exe(ids[1])).usage, {
        ...NONE,
        cpuSeconds: 3.5,
        peakMemoryBytes: 1024,
        gpuSeconds: 7,
      });
      const failed = await exe(ids[2]);
      assert.equal(failed.state, 'FAILED');
      assert.deepEqual(failed.usage, {
        ...NONE,
        cpuSeconds: 0.25,
        wallSeconds: 0.5,
        peakMemoryBytes: 4096,
      });
    });

    it('refuses figures out of range, of the wrong type, or unknown, and records nothing', async () => {
      const node = await register(t, 'usage-bad');
      await submit(t, { name: 'bad figures' });
      const a = await acquire(t, node.id);
      for (const usage of [
        { cpuSeconds: -1 },
        { wallSeconds: 1e9 },
        { peakMemoryBytes: 1.5 },
        { peakMemoryBytes: 2 ** 51 },
        { gpuSeconds: 'lots' },
        { cpuSeconds: 1, watts: 300 },
      ]) {
        const res = await report(t, a.execution.id, 'finish', {
          nodeId: node.id,
          success: true,
          usage,
        });
        expectError(res, 400, undefined, JSON.stringify(usage));
        assert.match(res.body.message, /usage/, JSON.stringify(res.body));
      }
      assert.notEqual((await exe(a.execution.id)).state, 'COMPLETED');
      assert.deepEqual((await exe(a.execution.id)).usage, NONE);
    });
  });
}
