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
  manifest,
  queue,
  registerNode,
  runOne,
} from './support.js';

/*
 * POST /v6/jobs/cancel/ and /v6/jobs/requeue/ (seed 002) on a mixed set of jobs in every
 * Scale status: 202 at once, applied afterwards, Scale's rules on which jobs each touches.
 */

for (const database of TEST_DATABASES) {
  describe(`Scale v6 bulk cancel and requeue (${database.name})`, () => {
    let t: TestServer;
    let type: any;
    let nodeId: number;

    before(async () => {
      t = await startTestServer(database);
      type = await createJobType(
        t,
        manifest('bulk-seed', { job: { interface: { command: 'true', inputs: {} } } }),
      );
      nodeId = (await registerNode(t, 'bulk-node')).id;
    });
    after(async () => {
      await t?.close();
    });

    const status = async (id: number) =>
      expectStatus(await t.request('GET', `/v6/jobs/${id}/`), 200).body.status;
    const native = async (id: number) => (await t.request('GET', `/api/v1/jobs/${id}`)).body;

    /** One job in each Scale status, plus a CANCELED one that was never queued. */
    async function mixedSet() {
      const q = () => queue(t, { job_type_id: type.id, input: {} });
      const set: Record<string, any> = {};
      set.COMPLETED = await q();
      await runOne(t, nodeId);
      set.FAILED = await q();
      await runOne(t, nodeId, { name: 'algorithm-unknown' });
      set.RUNNING = await q();
      // It keeps a node of its own busy: other tests need theirs free.
      const runner = (await registerNode(t, `bulk-runner-${set.RUNNING.id}`)).id;
      const order = await acquire(t, runner);
      assert.equal(order.job.id, set.RUNNING.id);
      expectStatus(
        await t.request('POST', `/api/v1/executions/${order.execution.id}/start`, {
          nodeId: runner,
        }),
        200,
      );
      set.runningExecution = order.execution.id;
      set.QUEUED = await q();
      set.CANCELED = await q();
      expectStatus(await t.request('POST', `/api/v1/jobs/${set.CANCELED.id}/cancel`), 200);
      set.BLOCKED = await q();
      expectStatus(await t.request('POST', `/api/v1/jobs/${set.BLOCKED.id}/suspend`), 200);
      const pending = () =>
        t.request('POST', '/api/v1/jobs', {
          type: 'bulk-seed',
          typeVersion: '1.0.0',
          initialState: 'PENDING',
        });
      set.PENDING = expectStatus(await pending(), 201).body;
      set.NEVER_QUEUED_CANCELED = expectStatus(await pending(), 201).body;
      expectStatus(
        await t.request('POST', `/api/v1/jobs/${set.NEVER_QUEUED_CANCELED.id}/cancel`),
        200,
      );
      for (const s of [
        'COMPLETED',
        'FAILED',
        'RUNNING',
        'QUEUED',
        'CANCELED',
        'BLOCKED',
        'PENDING',
      ]) {
        assert.equal(await status(set[s].id), s);
      }
      return set;
    }

    const only = (set: Record<string, any>) =>
      [
        'COMPLETED',
        'FAILED',
        'RUNNING',
        'QUEUED',
        'CANCELED',
        'BLOCKED',
        'PENDING',
        'NEVER_QUEUED_CANCELED',
      ].map((k) => set[k].id);

    it('cancel: everything but COMPLETED and CANCELED, after a 202 without body', async () => {
      const set = await mixedSet();
      const res = await t.request('POST', '/v6/jobs/cancel/', { job_ids: only(set) });
      expectStatus(res, 202);
      assert.equal(res.body, undefined);
      await eventually(async () => {
        for (const s of ['FAILED', 'RUNNING', 'QUEUED', 'BLOCKED', 'PENDING']) {
          assert.equal(await status(set[s].id), 'CANCELED', s);
        }
      });
      assert.equal(await status(set.COMPLETED.id), 'COMPLETED');
      const canceled = (await t.request('GET', `/v6/jobs/${set.FAILED.id}/`)).body;
      assert.equal(canceled.error, null, 'a canceled job shows no error');
      assert.equal(canceled.node, null);
      const exe = (await t.request('GET', `/api/v1/executions/${set.runningExecution}`)).body;
      assert.equal(exe.state, 'CANCELED', 'the running execution was withdrawn');
      assert.equal((await native(set.QUEUED.id)).state, 'CANCELED');
    });

    it('cancel filters: status, job types by name/version, and an empty body for all', async () => {
      const set = await mixedSet();
      expectStatus(
        await t.request('POST', '/v6/jobs/cancel/', { status: 'QUEUED', job_ids: only(set) }),
        202,
      );
      await eventually(async () => assert.equal(await status(set.QUEUED.id), 'CANCELED'));
      assert.equal(await status(set.RUNNING.id), 'RUNNING');
      expectDetail(
        await t.request('POST', '/v6/jobs/cancel/', {
          job_types: [{ name: 'nope', version: '1' }],
        }),
        400,
        'Job Type with name: nope and version: 1 does not exist',
      );
      expectDetail(
        await t.request('POST', '/v6/jobs/cancel/', { job_types: [{ name: 'bulk-seed' }] }),
        400,
        /^Job types argument invalid/,
      );
      expectDetail(
        await t.request('POST', '/v6/jobs/cancel/', { started: 'yesterday' }),
        400,
        'Invalid ISO timestamp format for parameter: started',
      );
      const text = await t.request('POST', '/v6/jobs/cancel/', 'job_ids=1', {
        'content-type': 'text/plain',
      });
      assert.equal(text.status, 415);
      expectStatus(
        await t.request('POST', '/v6/jobs/cancel/', {
          job_types: [{ name: 'bulk-seed', version: '1.0.0' }],
          job_type_ids: [type.id],
        }),
        202,
      );
      await eventually(async () => assert.equal(await status(set.RUNNING.id), 'CANCELED'));
      // No body at all: every job.
      const fresh = await queue(t, { job_type_id: type.id, input: {} });
      expectStatus(
        await t.request('POST', '/v6/jobs/cancel/', '', { 'content-type': 'application/json' }),
        202,
      );
      await eventually(async () => assert.equal(await status(fresh.id), 'CANCELED'));
    });

    it('requeue: FAILED and CANCELED go back to the queue with more tries; never-queued to PENDING', async () => {
      const set = await mixedSet();
      const failedBefore = (await t.request('GET', `/v6/jobs/${set.FAILED.id}/`)).body;
      assert.equal(failedBefore.max_tries, 3);
      assert.equal(failedBefore.num_exes, 1);
      expectStatus(
        await t.request('POST', '/v6/jobs/requeue/', { job_ids: only(set), priority: 7 }),
        202,
      );
      await eventually(async () => {
        assert.equal(await status(set.FAILED.id), 'QUEUED');
        assert.equal(await status(set.CANCELED.id), 'QUEUED');
        assert.equal(await status(set.NEVER_QUEUED_CANCELED.id), 'PENDING');
      });
      for (const s of ['COMPLETED', 'RUNNING', 'QUEUED', 'BLOCKED', 'PENDING']) {
        assert.equal(await status(set[s].id), s, `${s} untouched`);
      }
      const failed = (await t.request('GET', `/v6/jobs/${set.FAILED.id}/`)).body;
      assert.equal(failed.max_tries, 4, 'num_exes (1) + the job type max_tries (3)');
      assert.equal(failed.num_exes, 2);
      assert.equal(failed.error, null);
      assert.equal(failed.configuration.priority, 7);
      const queued = (await t.request('GET', `/v6/jobs/${set.QUEUED.id}/`)).body;
      assert.equal(queued.configuration.priority, 100, 'untouched jobs keep their priority');
      // Lower runs first: the requeued job with priority 7 is taken before the older QUEUED one.
      const picker = (await registerNode(t, 'bulk-picker')).id;
      const order = await acquire(t, picker);
      assert.ok([set.FAILED.id, set.CANCELED.id].includes(order.job.id));
    });

    it('a job canceled before any node took it, requeued: num_exes 2, max_tries 1 + 3, runs as execution 2', async () => {
      // Older than the job: a bulk command goes newest first, so once a requeue of both has
      // moved the marker, it has looked at the job.
      const marker = await queue(t, { job_type_id: type.id, input: {} });
      const job = await queue(t, { job_type_id: type.id, input: {} });
      expectStatus(
        await t.request('POST', '/v6/jobs/cancel/', { job_ids: [job.id, marker.id] }),
        202,
      );
      await eventually(async () => {
        assert.equal(await status(job.id), 'CANCELED');
        assert.equal(await status(marker.id), 'CANCELED');
      });
      const canceled = (await t.request('GET', `/v6/jobs/${job.id}/`)).body;
      assert.equal(canceled.num_exes, 1, 'queueing it was execution 1');
      assert.equal(canceled.max_tries, 3);
      expectStatus(
        await t.request('POST', '/v6/jobs/requeue/', { job_ids: [job.id], priority: 1 }),
        202,
      );
      await eventually(async () => assert.equal(await status(job.id), 'QUEUED'));
      const requeued = (await t.request('GET', `/v6/jobs/${job.id}/`)).body;
      assert.equal(requeued.num_exes, 2);
      assert.equal(requeued.max_tries, 4, 'Scale: num_exes at the requeue (1) + max_tries (3)');
      assert.equal(requeued.execution, null, 'execution 2 has not started');
      const legacy = (await t.request('GET', `/jobs/${job.id}/`)).body;
      assert.equal(legacy.num_exes, 2);
      assert.equal(legacy.max_tries, 4);
      // Priority 1 puts it before every other queued job of the suite.
      const runner = (await registerNode(t, `requeue-runner-${job.id}`)).id;
      const ran = await runOne(t, runner);
      assert.equal(ran.job.id, job.id);
      const done = (await t.request('GET', `/v6/jobs/${job.id}/`)).body;
      assert.equal(done.status, 'COMPLETED');
      assert.equal(done.num_exes, 2);
      assert.equal(done.execution?.exe_num, 2, 'the run is execution 2, as in Scale');
      const exes = (await t.request('GET', `/v6/jobs/${job.id}/executions/`)).body;
      assert.deepEqual(
        exes.results.map((e: any) => e.exe_num),
        [2],
      );
      // Natively the job ran once, as execution 2.
      const native = (await t.request('GET', `/api/v1/executions?job=${job.id}`)).body;
      assert.deepEqual(
        native.items.map((e: any) => e.exeNum),
        [2],
      );

      // A COMPLETED job is left as it is: same tries, executions and modification time.
      expectStatus(
        await t.request('POST', '/v6/jobs/requeue/', { job_ids: [job.id, marker.id] }),
        202,
      );
      await eventually(async () => assert.equal(await status(marker.id), 'QUEUED'));
      const untouched = (await t.request('GET', `/v6/jobs/${job.id}/`)).body;
      assert.equal(untouched.status, 'COMPLETED');
      assert.equal(untouched.num_exes, 2);
      assert.equal(untouched.max_tries, 4);
      assert.equal(untouched.last_modified, done.last_modified);
    });

    it('requeue by status and error category', async () => {
      expectStatus(await t.request('POST', '/v6/jobs/cancel/', {}), 202);
      await eventually(async () =>
        assert.equal(
          (await t.request('GET', '/v6/jobs/?status=QUEUED&status=RUNNING')).body.count,
          0,
        ),
      );
      nodeId = (await registerNode(t, 'bulk-node-2')).id;
      const a = await queue(t, { job_type_id: type.id, input: {} });
      await runOne(t, nodeId, { name: 'task-launch' });
      await runOne(t, nodeId, { name: 'task-launch' });
      await runOne(t, nodeId, { name: 'task-launch' });
      assert.equal(await status(a.id), 'FAILED');
      const before = (await t.request('GET', `/v6/jobs/${a.id}/`)).body;
      assert.equal(before.num_exes, 3);
      expectStatus(
        await t.request('POST', '/v6/jobs/requeue/', {
          status: 'FAILED',
          error_categories: ['ALGORITHM'],
          job_ids: [a.id],
        }),
        202,
      );
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(await status(a.id), 'FAILED', 'a SYSTEM failure does not match ALGORITHM');
      expectStatus(
        await t.request('POST', '/v6/jobs/requeue/', {
          status: 'FAILED',
          error_categories: 'SYSTEM',
          job_ids: [a.id],
        }),
        202,
      );
      await eventually(async () => assert.equal(await status(a.id), 'QUEUED'));
      const after = (await t.request('GET', `/v6/jobs/${a.id}/`)).body;
      assert.equal(after.max_tries, 6, 'Scale: 3/3 becomes 6');
    });
  });
}
