import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import { acquire, expectError, expectStatus, getJob, register, report, submit } from './support.js';

/* Bad nodes through the native API: seen at /jobs/:id/node-failures and cleared there. */

for (const database of TEST_DATABASES) {
  describe(`job node failures API (${database.name})`, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(database);
    });
    after(async () => {
      await t?.close();
    });

    it('shows the nodes blocked from a job and lets an operator clear them', async () => {
      const job = await submit(t, { frames: '1-4', maxTries: 10, badNodeFailures: 1 });
      assert.equal(job.badNodeFailures, 1);
      const node = await register(t, 'flaky');
      const order = await acquire(t, node.id);
      expectStatus(await report(t, order.execution.id, 'start', { nodeId: node.id }), 200);
      expectStatus(
        await report(t, order.execution.id, 'finish', {
          nodeId: node.id,
          success: false,
          exitCode: 3,
        }),
        200,
      );
      assert.equal(await acquire(t, node.id), undefined, 'blocked after one failure');
      assert.equal((await getJob(t, job.id)).blockedNodes, 1);
      const seen = expectStatus(await t.request('GET', `/api/v1/jobs/${job.id}/node-failures`), 200)
        .body.items;
      assert.equal(seen.length, 1);
      assert.deepEqual(
        { ...seen[0], lastFailureAt: undefined },
        {
          nodeId: node.id,
          nodeName: 'flaky',
          failures: 1,
          blocked: true,
          lastFailureAt: undefined,
        },
      );
      const reasons = (await t.request('GET', `/api/v1/jobs/${job.id}/waiting-reasons`)).body
        .reasons;
      assert.equal(reasons[0].code, 'NODES_BLOCKED');

      expectError(await t.request('DELETE', `/api/v1/jobs/${job.id}/node-failures?node=abc`), 400);
      const cleared = expectStatus(
        await t.request('DELETE', `/api/v1/jobs/${job.id}/node-failures?node=${node.id}`),
        200,
      ).body;
      assert.deepEqual(cleared, { unblocked: 1 });
      assert.equal((await getJob(t, job.id)).blockedNodes, 0);
      assert.equal((await acquire(t, node.id))?.job.id, job.id);
      expectError(await t.request('GET', '/api/v1/jobs/999999/node-failures'), 404);
      expectError(
        await t.request('POST', '/api/v1/jobs', {
          type: 'command-line',
          parameters: { executable: 'echo' },
          badNodeFailures: -1,
        }),
        400,
      );
    });
  });
}
