import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import { acquire, expectError, expectStatus, register, report, submit } from './support.js';

/*
 * Issue 18: GET /stats/jobs, what the jobs table's ETA and Errors columns are made of — the
 * mean duration of each job's completed tries and its failed tries, with the hand-moved
 * clock giving the durations, and its input bounded.
 */

for (const database of TEST_DATABASES) {
  describe(`GET /stats/jobs (${database.name})`, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(database);
    });
    after(async () => t?.close());

    /** Runs the next task for `ms` of the test's clock, then ends it as told. */
    const run = async (nodeId: number, ms: number, success: boolean) => {
      const order = await acquire(t, nodeId);
      assert.ok(order, 'a task to run');
      expectStatus(await report(t, order.execution.id, 'start', { nodeId }), 200, 'start');
      t.clock.advance(ms);
      const body = { nodeId, success, exitCode: success ? 0 : 1 };
      expectStatus(await report(t, order.execution.id, 'finish', body), 200, 'finish');
    };

    it('gives the mean of completed tries and counts failed ones, per job', async () => {
      const node = await register(t, 'timing-node');
      const job = await submit(t, { name: 'timed', frames: '1-4', chunkSize: 1, maxTries: 3 });
      await run(node.id, 10_000, true);
      await run(node.id, 5_000, false);
      await run(node.id, 30_000, true);
      const idle = await submit(t, { name: 'not started' });

      const res = expectStatus(
        await t.request('GET', `/api/v1/stats/jobs?ids=${job.id},${idle.id}`),
        200,
      );
      assert.deepEqual(res.body.items, [
        { jobId: job.id, errors: 1, sampled: 2, meanTaskMs: 20_000 },
        { jobId: idle.id, errors: 0, sampled: 0, meanTaskMs: null },
      ]);
    });

    it('refuses ids that are not a short list of job ids, and unknown parameters', async () => {
      const tooMany = Array.from({ length: 101 }, (_, i) => i + 1).join(',');
      for (const q of ['', '?ids=', '?ids=abc', '?ids=1,,2', '?ids=0', `?ids=${tooMany}`]) {
        expectError(await t.request('GET', `/api/v1/stats/jobs${q}`), 400, undefined, q);
      }
      expectError(await t.request('GET', '/api/v1/stats/jobs?ids=1&sort=x'), 400);
      const hundred = Array.from({ length: 100 }, (_, i) => i + 1).join(',');
      expectStatus(await t.request('GET', `/api/v1/stats/jobs?ids=${hundred}`), 200);
    });
  });
}
