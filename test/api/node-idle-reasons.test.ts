/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { failReportedExecution } from '../../src/engine/executions/execution-reports.js';
import { submitJob, type SubmitJobSpec } from '../../src/engine/jobs/job-submission.js';
import { createLimit } from '../../src/engine/limits/limits.js';
import { registerNode } from '../../src/engine/nodes/node-registry.js';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import { parsePrometheusText } from '../helpers/prometheus-text.js';
import { expectStatus } from './support.js';

/*
 * "Why is node X idle" (docs/scheduling.md#why-is-a-node-idle): GET /nodes/{id}/idle-reasons
 * names, for each queued job in the claim's order, what stops this node from taking it (a
 * full licence, a block from the job, a pool), and what stops the node itself; /metrics
 * shows the limit's use.
 */

for (const database of TEST_DATABASES) {
  describe(`node idle reasons (${database.name})`, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(database);
    });
    after(async () => {
      await t?.close();
    });

    it('names the limit, the block and the pool that keep each job from the node', async () => {
      const ctx = t.engine.ctx;
      const submit = (more: Partial<SubmitJobSpec>) =>
        submitJob(ctx, {
          type: 'command-line',
          user: 'alice',
          parameters: { executable: 'echo' },
          maxTries: 5,
          ...more,
        });
      const n1 = (await registerNode(ctx, { name: 'n1' })).id;
      const n2 = (await registerNode(ctx, { name: 'n2' })).id;
      const blockedJob = await submit({
        name: 'blocked',
        frames: '1-3',
        badNodeFailures: 1,
        priority: 70,
      });
      const failed = (await t.engine.dispatcher.tryAcquire(n1))!.execution;
      await failReportedExecution(ctx, failed.id, n1, { message: 'exit 1', exitCode: 1 });
      await createLimit(ctx, { name: 'nuke', maxCount: 1 });
      const licensed = await submit({
        name: 'licensed',
        frames: '1-2',
        limits: ['nuke'],
        priority: 90,
      });
      assert.equal((await t.engine.dispatcher.tryAcquire(n2))?.execution.job_id, licensed);
      const elsewhere = await submit({ name: 'elsewhere', pool: 'farm-b', priority: 80 });
      const free = await submit({ name: 'free', priority: 10 });

      const answer = expectStatus(
        await t.request('GET', `/api/v1/nodes/${n1}/idle-reasons`),
        200,
      ).body;
      assert.equal(answer.status, 'IDLE');
      assert.deepEqual(answer.reasons, []);
      assert.equal(answer.queuedJobs, 4);
      assert.deepEqual(
        answer.jobs.map((j: any) => [j.jobId, j.reasons.map((r: any) => r.code)]),
        [
          [licensed, ['LIMIT_FULL']],
          [elsewhere, ['NOT_IN_POOL_OR_GROUP']],
          [blockedJob, ['NODE_BLOCKED']],
          [free, []],
        ],
      );
      assert.equal(answer.jobs[0].reasons[0].message, 'waiting for licence nuke (1/1 in use)');
      assert.match(answer.jobs[1].reasons[0].message, /pool "farm-b"/);
      assert.match(answer.jobs[2].reasons[0].message, /failed the job 1 times and is blocked/);
      // /metrics shows the limit's use and count, labelled by its name.
      const metrics = parsePrometheusText(
        expectStatus(await t.request('GET', '/metrics'), 200).body as string,
      );
      for (const [series, value] of [
        ['drover_limit_in_use', 1],
        ['drover_limit_max', 1],
      ] as const) {
        assert.deepEqual(
          metrics.get(series)!.samples.map((x) => [x.labels.limit, x.value]),
          [['nuke', value]],
        );
      }
      // What the answer says it may take, it takes.
      assert.equal((await t.engine.dispatcher.tryAcquire(n1))?.execution.job_id, free);

      const busy = expectStatus(
        await t.request('GET', `/api/v1/nodes/${n1}/idle-reasons?limit=1`),
        200,
      ).body;
      assert.deepEqual(
        busy.reasons.map((r: any) => r.code),
        ['SLOTS_FULL'],
      );
      assert.equal(busy.jobs.length, 1);
      expectStatus(await t.request('POST', `/api/v1/nodes/${n2}/disable`), 200);
      const disabled = expectStatus(
        await t.request('GET', `/api/v1/nodes/${n2}/idle-reasons`),
        200,
      ).body;
      assert.deepEqual(
        disabled.reasons.map((r: any) => r.code),
        ['DISABLED', 'SLOTS_FULL'],
      );
      expectStatus(await t.request('GET', `/api/v1/nodes/${n1}/idle-reasons?limit=0`), 400);
      expectStatus(await t.request('GET', `/api/v1/nodes/${n1}/idle-reasons?limit=101`), 400);
      expectStatus(await t.request('GET', '/api/v1/nodes/999999/idle-reasons'), 404);
    });
  });
}
