/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { updateJobSettings } from '../../../src/engine/jobs/job-settings.js';
import { setPool } from '../../../src/engine/pools/pools.js';
import { TEST_DATABASES } from '../../helpers/databases.js';
import {
  createJob,
  defineTemplate,
  expect,
  expectDetail,
  nativeToken,
  registerNode,
  startUfdl,
  type UfdlClient,
  type UfdlWorld,
} from './support.js';

/*
 * Seed 001, Jobs: Acquire, Release, Start, Progress, Finish, Reset, Abort — UFDL's verbs,
 * the Python client's bodies, and the engine state each leaves (native executions).
 */

const START = { send_notification: 'email' };
const FINISH = { success: true, send_notification: 'email' };

for (const database of TEST_DATABASES) {
  describe(`UFDL node protocol (${database.name})`, () => {
    const withNode = (
      name: string,
      fn: (w: UfdlWorld, node: UfdlClient, pk: number) => Promise<void>,
    ) =>
      test(name, async () => {
        const w = await startUfdl(database);
        try {
          const tpl = await defineTemplate(w);
          const job = await createJob(w, tpl);
          await fn(w, await registerNode(w), job.pk);
        } finally {
          await w.close();
        }
      });
    const executions = async (w: UfdlWorld, pk: number): Promise<any[]> =>
      expect(
        await w.t.request('GET', `/api/v1/executions?job=${pk}`, undefined, await nativeToken(w)),
        200,
        'executions',
      ).items;

    withNode(
      'acquire (GET) dispatches the one task to the Node-Id node; again is a no-op',
      async (w, node, pk) => {
        const job = expect(await node.call('GET', `/v1/jobs/${pk}/acquire`), 200, 'acquire');
        assert.equal(job.node, node.nodeId);
        assert.equal(job.start_time, null, 'acquired is not started');
        const [execution] = await executions(w, pk);
        assert.equal(execution.state, 'ACQUIRED');
        assert.equal(execution.nodeId, node.nodeId);
        expect(await node.call('GET', `/v1/jobs/${pk}/acquire/`), 200, 'acquire again');
        assert.equal((await executions(w, pk)).length, 1, 'no second execution');
      },
    );

    withNode('release (DELETE) gives the job back', async (w, node, pk) => {
      expect(await node.call('GET', `/v1/jobs/${pk}/acquire`), 200, 'acquire');
      const released = expect(await node.call('DELETE', `/v1/jobs/${pk}/release`), 200, 'release');
      assert.equal(released.node, null);
      assert.equal((await executions(w, pk))[0].state, 'RELEASED');
      expect(
        await node.call('DELETE', `/v1/jobs/${pk}/release`),
        200,
        'release when not held is a no-op',
      );
    });

    withNode(
      'start needs send_notification, sets start_time and runs the execution',
      async (w, node, pk) => {
        expect(await node.call('GET', `/v1/jobs/${pk}/acquire`), 200, 'acquire');
        const started = expect(
          await node.call('POST', `/v1/jobs/${pk}/start`, { ...START, extra: 1 }),
          200,
          'start',
        );
        assert.notEqual(started.start_time, null);
        assert.equal((await executions(w, pk))[0].state, 'RUNNING');
        const node2 = expect(await node.call('GET', `/v1/nodes/${node.nodeId}`), 200, 'node');
        assert.equal(node2.current_job, pk);
      },
    );

    withNode('progress accepts Python float spellings and any JSON object', async (w, node, pk) => {
      expect(await node.call('GET', `/v1/jobs/${pk}/acquire`), 200, 'acquire');
      expect(await node.call('POST', `/v1/jobs/${pk}/start`, START), 200, 'start');
      for (const p of ['0.5', '1.0', '0.0', '1e-05', '1', '0']) {
        expect(await node.call('POST', `/v1/jobs/${pk}/progress/${p}`, {}), 200, `progress ${p}`);
      }
      expect(
        await node.call('POST', `/v1/jobs/${pk}/progress/0.25`, { epoch: 3, loss: 0.1 }),
        200,
        'with data',
      );
      assert.equal((await executions(w, pk))[0].progress, 25);
    });

    withNode(
      'finish without error: FINISHED, COMPLETED natively; the node is free',
      async (w, node, pk) => {
        expect(await node.call('GET', `/v1/jobs/${pk}/acquire`), 200, 'acquire');
        expect(await node.call('POST', `/v1/jobs/${pk}/start`, START), 200, 'start');
        const done = expect(
          await node.call('POST', `/v1/jobs/${pk}/finish`, FINISH),
          200,
          'finish',
        );
        assert.notEqual(done.end_time, null);
        assert.equal(done.error_reason, null);
        const native = expect(
          await w.t.request('GET', `/api/v1/jobs/${pk}`, undefined, await nativeToken(w)),
          200,
          'native',
        );
        assert.equal(native.state, 'COMPLETED');
        assert.equal(
          expect(await node.call('GET', `/v1/nodes/${node.nodeId}`), 200, 'node').current_job,
          null,
        );
      },
    );

    withNode(
      'finish with an error (even ""): ERRORED, FAILED natively; reset requeues it',
      async (w, node, pk) => {
        expect(await node.call('GET', `/v1/jobs/${pk}/acquire`), 200, 'acquire');
        expect(await node.call('POST', `/v1/jobs/${pk}/start`, START), 200, 'start');
        expect(await node.addOutput(pk, 'log', 'str', Buffer.from('x')), 200, 'output');
        const failed = expect(
          await node.call('POST', `/v1/jobs/${pk}/finish`, {
            ...FINISH,
            success: false,
            error: 'boom',
          }),
          200,
          'finish error',
        );
        assert.equal(failed.error_reason, 'boom');
        assert.notEqual(failed.end_time, null);
        assert.equal(failed.node, node.nodeId);
        const native = expect(
          await w.t.request('GET', `/api/v1/jobs/${pk}`, undefined, await nativeToken(w)),
          200,
          'native',
        );
        assert.equal(native.state, 'FAILED');
        const reset = expect(await node.call('DELETE', `/v1/jobs/${pk}/reset`), 200, 'reset');
        assert.equal(reset.start_time, null);
        assert.equal(reset.end_time, null);
        assert.equal(reset.error_reason, null);
        const info = expect(
          await node.call('GET', `/v1/jobs/${pk}/outputs/log/str/info`),
          200,
          'info',
        );
        assert.notEqual(info.deletion_time, null, 'reset soft-deletes outputs');
        expect(await node.call('DELETE', `/v1/jobs/${pk}/release`), 200, 'release after reset');
        // Again, with an empty error string.
        expect(await node.call('GET', `/v1/jobs/${pk}/acquire`), 200, 'acquire 2');
        expect(await node.call('POST', `/v1/jobs/${pk}/start`, START), 200, 'start 2');
        const empty = expect(
          await node.call('POST', `/v1/jobs/${pk}/finish`, { ...FINISH, error: '' }),
          200,
          'finish ""',
        );
        assert.equal(empty.error_reason, '');
      },
    );

    withNode(
      'abort (admin) puts a started job back to CREATED; the node’s finish is then a no-op',
      async (w, node, pk) => {
        expect(await node.call('GET', `/v1/jobs/${pk}/acquire`), 200, 'acquire');
        expect(await node.call('POST', `/v1/jobs/${pk}/start`, START), 200, 'start');
        const aborted = expect(await w.admin.call('DELETE', `/v1/jobs/${pk}/abort`), 200, 'abort');
        assert.equal(aborted.node, null);
        assert.equal(aborted.start_time, null);
        assert.equal((await executions(w, pk))[0].state, 'CANCELED');
        const after = expect(
          await node.call('POST', `/v1/jobs/${pk}/finish`, FINISH),
          200,
          'finish after abort',
        );
        assert.equal(after.end_time, null);
        // Workable again by anyone.
        expect(await node.call('GET', `/v1/jobs/${pk}/acquire`), 200, 'acquire again');
      },
    );

    withNode(
      'a node that names itself is seen (last_seen, the lease extended)',
      async (w, node, pk) => {
        expect(await node.call('GET', `/v1/jobs/${pk}/acquire`), 200, 'acquire');
        const before = (await executions(w, pk))[0].leaseExpiresAt;
        w.t.clock.advance(30_000);
        expect(await node.call('GET', `/v1/jobs/${pk}`), 200, 'retrieve with Node-Id');
        const after = (await executions(w, pk))[0].leaseExpiresAt;
        assert.ok(Date.parse(after) > Date.parse(before), `${after} > ${before}`);
        const seen = expect(
          await node.call('GET', `/v1/nodes/${node.nodeId}`),
          200,
          'node',
        ).last_seen;
        assert.equal(Date.parse(seen), w.t.clock.now);
      },
    );

    test("acquire respects a weighted pool's burst limit: 406 with the reason", async () => {
      const w = await startUfdl(database);
      try {
        const tpl = await defineTemplate(w);
        const first = (await createJob(w, tpl)).pk as number;
        const second = (await createJob(w, tpl)).pk as number;
        const node = await registerNode(w);
        const { ctx } = w.t.engine;
        // UFDL names no pool or project: the jobs are put in a pool shared by project.
        for (const pk of [first, second]) {
          await updateJobSettings(ctx, pk, { pool: 'farm', project: 'show-a' });
        }
        await setPool(ctx, 'farm', {
          mode: 'weighted',
          shareBy: 'project',
          shares: [{ project: 'show-a', share: 1, burst: 1 }],
        });
        expect(await node.call('GET', `/v1/jobs/${first}/acquire`), 200, 'acquire first');
        expectDetail(
          await node.call('GET', `/v1/jobs/${second}/acquire`),
          406,
          `Attempted an illegal phase-transition on workable job ${second} in phase LifecyclePhase.CREATED: acquire\nproject show-a is at its burst limit in pool farm (1 running, limit 1).`,
        );
        // The first one released, the project has room again.
        expect(await node.call('DELETE', `/v1/jobs/${first}/release`), 200, 'release first');
        expect(await node.call('GET', `/v1/jobs/${second}/acquire`), 200, 'acquire second');
      } finally {
        await w.close();
      }
    });

    test('acquire respects a host requirement the node does not meet: 406 with the reason', async () => {
      const w = await startUfdl(database);
      try {
        const tpl = await defineTemplate(w);
        const pk = (await createJob(w, tpl)).pk as number;
        const node = await registerNode(w);
        // UFDL has no field for it; a native or OpenJD job would carry it (migration 0045).
        const req = {
          attributes: [{ name: 'attr.worker.os.family', anyOf: ['windows'] }],
          amounts: [],
        };
        await w.t.engine.ctx.db
          .updateTable('jobs')
          .set({ req_host: JSON.stringify(req) })
          .where('id', '=', pk)
          .execute();
        expectDetail(
          await node.call('GET', `/v1/jobs/${pk}/acquire`),
          406,
          `Attempted an illegal phase-transition on workable job ${pk} in phase LifecyclePhase.CREATED: acquire\njob ${pk}: the job requires attr.worker.os.family in [windows]; the node has no attr.worker.os.family (wants one in [windows]).`,
        );
      } finally {
        await w.close();
      }
    });
  });
}
