/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import { api, buildOnce, drain, drover, expectRun, startTask, submitJob } from './support.js';

for (const database of TEST_DATABASES) {
  describe(`drover retry (${database.name})`, () => {
    let t: TestServer;
    let nodeId: number;
    before(async () => {
      await buildOnce();
      t = await startTestServer(database);
      nodeId = (await api(t, 'POST', '/nodes', { name: 'retry-node' })).id;
    });
    beforeEach(async () => {
      await drain(t);
    });
    after(async () => {
      await t?.close();
    });

    /** A job of three tasks whose tasks 0 and 2 failed: the job is FAILED. */
    async function failedJob(): Promise<number> {
      const job = await submitJob(t, { frames: '1-3', maxTries: 1 });
      const order = await startTask(t, nodeId);
      await api(t, 'POST', `/executions/${order.execution.id}/finish`, {
        nodeId,
        success: false,
        exitCode: 2,
        error: { category: 'ALGORITHM', message: 'exit code 2' },
      });
      const tasks = (await api(t, 'GET', `/jobs/${job.id}/tasks`)).items;
      await api(t, 'POST', `/tasks/${tasks[2].id}/fail`);
      assert.equal((await api(t, 'GET', `/jobs/${job.id}`)).state, 'FAILED');
      return job.id;
    }

    it('requeues the failed tasks of each job with their tries forgotten', async () => {
      const a = await failedJob();
      const b = await failedJob();
      expectRun(
        await drover(t, ['retry', String(a), String(b)]),
        0,
        `job ${a}: 2 failed tasks requeued (QUEUED)\njob ${b}: 2 failed tasks requeued (QUEUED)\n`,
      );
      for (const id of [a, b]) {
        const tasks = (await api(t, 'GET', `/jobs/${id}/tasks`)).items;
        assert.deepEqual(
          tasks.map((x: any) => [x.state, x.tries]),
          [
            ['QUEUED', 0],
            ['QUEUED', 0],
            ['QUEUED', 0],
          ],
        );
        assert.equal((await api(t, 'GET', `/jobs/${id}`)).state, 'QUEUED');
      }
    });

    it("prints the server's refusal for a job that did not fail and exits 1", async () => {
      const failed = await failedJob();
      const queued = (await submitJob(t)).id as number;
      const refused = await t.request('POST', `/api/v1/jobs/${queued}/resume-failed`);
      assert.equal(refused.status, 409);
      expectRun(
        await drover(t, ['retry', String(queued), String(failed), '424242']),
        1,
        `job ${failed}: 2 failed tasks requeued (QUEUED)\n`,
        `drover: ${refused.body.message}\ndrover: job 424242 does not exist\n`,
      );
      const json = await drover(t, ['retry', '--json', String(queued)]);
      expectRun(json, 1);
      assert.deepEqual(JSON.parse(json.stdout), [
        {
          id: queued,
          ok: false,
          error: { code: 'ILLEGAL_TRANSITION', message: refused.body.message },
        },
      ]);
    });
  });
}
