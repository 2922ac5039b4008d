/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../helpers/databases.js';
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
  tasksOf,
} from './support.js';

/* The job's taskTimeoutAction through the native API: submit, PATCH, work order, finish. */

for (const database of TEST_DATABASES) {
  describe(`native API: taskTimeoutAction (${database.name})`, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(database);
    });
    after(async () => {
      await t?.close();
    });

    it('is FAIL unless given; submit takes COMPLETE and NOTIFY and refuses anything else', async () => {
      assert.equal((await submit(t, { taskTimeout: 5 })).taskTimeoutAction, 'FAIL');
      const complete = await submit(t, { taskTimeout: 5, taskTimeoutAction: 'COMPLETE' });
      assert.equal(complete.taskTimeoutAction, 'COMPLETE');
      assert.equal((await getJob(t, complete.id)).taskTimeoutAction, 'COMPLETE');
      const notify = await submit(t, { taskTimeout: 5, taskTimeoutAction: 'NOTIFY' });
      assert.equal(notify.taskTimeoutAction, 'NOTIFY');
      const listed = expectStatus(await t.request('GET', '/api/v1/jobs?limit=1000'), 200).body;
      assert.equal(listed.items.find((j: any) => j.id === notify.id).taskTimeoutAction, 'NOTIFY');
      for (const bad of ['notify', 'ERROR', 1]) {
        expectError(
          await t.request('POST', '/api/v1/jobs', {
            type: 'command-line',
            parameters: { executable: 'echo' },
            taskTimeoutAction: bad,
          }),
          400,
        );
      }
    });

    it('PATCH changes it and refuses unknown values', async () => {
      const job = await submit(t, { taskTimeout: 5 });
      const res = expectStatus(
        await t.request('PATCH', `/api/v1/jobs/${job.id}`, { taskTimeoutAction: 'NOTIFY' }),
        200,
      );
      assert.equal(res.body.taskTimeoutAction, 'NOTIFY');
      assert.equal(res.body.taskTimeout, 5);
      assert.equal((await getJob(t, job.id)).taskTimeoutAction, 'NOTIFY');
      const both = expectStatus(
        await t.request('PATCH', `/api/v1/jobs/${job.id}`, {
          taskTimeout: 9,
          taskTimeoutAction: 'COMPLETE',
        }),
        200,
      );
      assert.equal(both.body.taskTimeoutAction, 'COMPLETE');
      assert.equal(both.body.taskTimeout, 9);
      expectError(
        await t.request('PATCH', `/api/v1/jobs/${job.id}`, { taskTimeoutAction: 'LATER' }),
        400,
      );
      assert.equal((await getJob(t, job.id)).taskTimeoutAction, 'COMPLETE');
      await t.request('POST', `/api/v1/jobs/${job.id}/cancel`);
    });

    it('the work order carries it; a successful finish with timedOut is recorded', async () => {
      const node = await register(t, 'tta-node');
      // Earlier tests left queued jobs; take orders until ours comes.
      const job = await submit(t, { taskTimeout: 1, taskTimeoutAction: 'COMPLETE', priority: 99 });
      const order = await acquire(t, node.id);
      assert.equal(order.job.id, job.id);
      assert.equal(order.job.taskTimeout, 1);
      assert.equal(order.job.taskTimeoutAction, 'COMPLETE');
      const id = order.execution.id;
      expectStatus(await report(t, id, 'start', { nodeId: node.id }), 200);
      const fin = expectStatus(
        await report(t, id, 'finish', {
          nodeId: node.id,
          success: true,
          timedOut: true,
        }),
        200,
      );
      assert.equal(fin.body.state, 'COMPLETED');
      assert.equal(fin.body.timedOut, true);
      assert.equal(fin.body.exitCode, null);
      assert.equal(fin.body.error, null);
      const [task] = await tasksOf(t, job.id);
      assert.equal(task.state, 'COMPLETED');
      assert.equal((await getJob(t, job.id)).state, 'COMPLETED');

      // Without timedOut a success is not flagged, and an exit code defaults to 0.
      const plain = await submit(t, { priority: 99 });
      const next = await acquire(t, node.id);
      assert.equal(next.job.id, plain.id);
      assert.equal(next.job.taskTimeoutAction, 'FAIL');
      expectStatus(await report(t, next.execution.id, 'start', { nodeId: node.id }), 200);
      expectStatus(
        await report(t, next.execution.id, 'finish', { nodeId: node.id, success: true }),
        200,
      );
      const [execution] = await executionsOf(t, plain.id);
      assert.equal(execution.timedOut, false);
      assert.equal(execution.exitCode, 0);
    });
  });
}
