/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../../helpers/databases.js';
import { startTestServer, type TestServer } from '../../helpers/http.js';
import {
  acquire,
  createJobType,
  eventually,
  expectDetail,
  expectStatus,
  keys,
  manifest,
  queue,
  registerNode,
  runOne,
} from './support.js';

/*
 * Routes of Scale that seeds 002 and 003 imply beyond the job services: the queue's status
 * by job type (GET /v6/queue/status/, requeued priorities included) and the legacy
 * execution services (GET /v5/job-executions/, its details and logs).
 */

for (const database of TEST_DATABASES) {
  describe(`Scale queue status and legacy executions (${database.name})`, () => {
    let t: TestServer;
    let alpha: any;
    let beta: any;
    let nodeId: number;

    before(async () => {
      t = await startTestServer(database);
      const seed = (name: string) =>
        manifest(name, {
          job: { interface: { command: 'echo hi from ${JOB_NAME:-seed}', inputs: {} } },
        });
      alpha = await createJobType(t, seed('queue-alpha'));
      beta = await createJobType(t, seed('queue-beta'));
      nodeId = (await registerNode(t, 'queue-node')).id;
    });
    after(async () => {
      await t?.close();
    });

    const status = async () => expectStatus(await t.request('GET', '/v6/queue/status/'), 200).body;

    it('/v6/queue/status/: waiting jobs by job type, best priority first; a requeue priority shows', async () => {
      assert.deepEqual(await status(), { count: 0, next: null, previous: null, results: [] });
      const a1 = await queue(t, { job_type_id: alpha.id, input: {} });
      await queue(t, { job_type_id: alpha.id, input: {} });
      const b1 = await queue(t, { job_type_id: beta.id, input: {} });
      const first = await status();
      assert.equal(first.count, 2);
      assert.deepEqual(keys(first.results[0]), [
        'count',
        'highest_priority',
        'job_type',
        'longest_queued',
      ]);
      // Same priority (100): the one waiting longest comes first.
      assert.deepEqual(
        first.results.map((r: any) => [r.job_type.name, r.count, r.highest_priority]),
        [
          ['queue-alpha', 2, 100],
          ['queue-beta', 1, 100],
        ],
      );
      assert.equal(first.results[0].longest_queued, a1.queued);
      assert.equal(first.results[0].job_type.id, alpha.id);
      assert.ok('unmet_resources' in first.results[0].job_type);

      // Canceled before it ran, requeued with priority 5: beta now leads.
      expectStatus(await t.request('POST', '/v6/jobs/cancel/', { job_ids: [b1.id] }), 202);
      await eventually(async () =>
        assert.deepEqual(
          (await status()).results.map((r: any) => r.job_type.name),
          ['queue-alpha'],
        ),
      );
      expectStatus(
        await t.request('POST', '/v6/jobs/requeue/', { job_ids: [b1.id], priority: 5 }),
        202,
      );
      await eventually(async () => {
        const after = await status();
        assert.deepEqual(
          after.results.map((r: any) => [r.job_type.name, r.count, r.highest_priority]),
          [
            ['queue-beta', 1, 5],
            ['queue-alpha', 2, 100],
          ],
        );
      });
      const page = expectStatus(
        await t.request('GET', '/v6/queue/status/?page_size=1&page=2'),
        200,
      ).body;
      assert.deepEqual(
        page.results.map((r: any) => r.job_type.name),
        ['queue-alpha'],
      );
      assert.match(page.previous, /\/v6\/queue\/status\/\?page_size=1$/);
      // A job a node has taken is no longer waiting.
      const order = await acquire(t, nodeId);
      assert.equal(order.job.id, b1.id, 'priority 5 runs first');
      assert.deepEqual(
        (await status()).results.map((r: any) => [r.job_type.name, r.count]),
        [['queue-alpha', 2]],
      );
      expectDetail(await t.request('GET', '/v6/queue/status/?page=9'), 404, 'Invalid page.');
      expectStatus(await t.request('GET', '/api/v6/queue/status/'), 200);
      // Finish it, so the next test starts from an idle node.
      expectStatus(
        await t.request('POST', `/api/v1/executions/${order.execution.id}/start`, { nodeId }),
        200,
      );
      expectStatus(
        await t.request('POST', `/api/v1/executions/${order.execution.id}/finish`, {
          nodeId,
          success: true,
          exitCode: 0,
        }),
        200,
      );
    });

    it("/v5/job-executions/: every job's executions, filtered; details and logs", async () => {
      const ran = await runOne(t, nodeId);
      const exe = ran.execution.id;
      const list = expectStatus(await t.request('GET', '/v5/job-executions/'), 200).body;
      assert.ok(list.count >= 2);
      const item = list.results.find((e: any) => e.id === exe);
      assert.ok(item, JSON.stringify(list.results));
      assert.deepEqual(keys(item), [
        'command_arguments',
        'created',
        'ended',
        'error',
        'id',
        'job',
        'job_completed',
        'job_exit_code',
        'job_started',
        'last_modified',
        'node',
        'post_completed',
        'post_exit_code',
        'post_started',
        'pre_completed',
        'pre_exit_code',
        'pre_started',
        'queued',
        'started',
        'status',
        'timeout',
      ]);
      assert.equal(item.status, 'COMPLETED');
      assert.equal(item.job.id, ran.job.id);
      assert.equal(item.job.status, 'COMPLETED');
      assert.equal(item.job.job_type.name, ran.jobType.name);
      assert.deepEqual(item.node, { id: nodeId, hostname: 'queue-node.farm' });
      assert.equal(item.error, null);
      // Default order: last_modified, oldest first.
      const times = list.results.map((e: any) => Date.parse(e.last_modified));
      assert.deepEqual(
        times,
        [...times].sort((a: number, b: number) => a - b),
      );

      const only = async (query: string) =>
        expectStatus(await t.request('GET', `/v5/job-executions/?${query}`), 200).body.results.map(
          (e: any) => e.id,
        );
      assert.ok((await only(`job_type_name=${ran.jobType.name}`)).includes(exe));
      assert.deepEqual(await only('job_type_name=nothing-of-that-name'), []);
      assert.ok((await only('status=COMPLETED')).includes(exe));
      assert.deepEqual(await only('status=FAILED'), []);
      assert.ok((await only(`node_id=${nodeId}`)).includes(exe));
      assert.deepEqual(await only('node_id=99999'), []);
      const newest = await only('order=-last_modified');
      assert.equal(newest[0], exe);
      expectDetail(
        await t.request('GET', '/v5/job-executions/?node_id=x'),
        400,
        'Parameter must be a valid integer: "node_id"',
      );
      expectDetail(
        await t.request('GET', '/v5/job-executions/?order=nope'),
        400,
        'Invalid order field: nope',
      );

      for (const prefix of ['/v5/job-executions', '/job-executions']) {
        const details = expectStatus(await t.request('GET', `${prefix}/${exe}/`), 200).body;
        assert.equal(details.id, exe);
        assert.equal(details.job.id, ran.job.id);
        assert.ok('job_exes' in details.job === false);
        for (const key of ['environment', 'cpus_scheduled', 'mem_scheduled', 'results'])
          assert.ok(key in details, key);
        const txt = expectStatus(
          await t.request('GET', `${prefix}/${exe}/logs/stdout/?format=txt`),
          200,
        );
        assert.equal(txt.body, 'hi from seed');
      }
      expectDetail(await t.request('GET', '/v5/job-executions/99999/'), 404, 'Not found.');
      expectDetail(
        await t.request('POST', '/v5/job-executions/'),
        405,
        'Method "POST" not allowed.',
      );
    });
  });
}
