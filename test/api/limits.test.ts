import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import { acquire, expectError, expectStatus, getJob, register, report, submit } from './support.js';

/*
 * Limits through the native API (docs/scheduling.md): made, read, changed and deleted at
 * /api/v1/limits, named by a job at submit or by a change, enforced at acquire, and
 * explained by the job's waiting reasons.
 */

for (const database of TEST_DATABASES) {
  describe(`limits API (${database.name})`, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(database);
    });
    after(async () => {
      await t?.close();
    });

    it('creates, lists, reads, changes and deletes a limit', async () => {
      const made = expectStatus(
        await t.request('POST', '/api/v1/limits', { name: 'Katana', maxCount: 3 }),
        201,
      ).body;
      assert.equal(made.name, 'katana');
      assert.equal(made.per, 'TASK');
      assert.deepEqual(made.nodeList, { mode: 'NONE', nodes: [] });
      assert.equal(made.inUse, 0);
      expectError(
        await t.request('POST', '/api/v1/limits', { name: 'katana', maxCount: 1 }),
        409,
        'CONFLICT',
      );
      const list = expectStatus(await t.request('GET', '/api/v1/limits'), 200).body;
      assert.ok(list.items.some((l: { name: string }) => l.name === 'katana'));
      const changed = expectStatus(
        await t.request('PATCH', '/api/v1/limits/katana', {
          maxCount: 5,
          per: 'MACHINE',
          allowList: ['a', 'b'],
        }),
        200,
      ).body;
      assert.equal(changed.maxCount, 5);
      assert.equal(changed.per, 'MACHINE');
      assert.deepEqual(changed.nodeList, { mode: 'ALLOW', nodes: ['a', 'b'] });
      assert.equal(
        expectStatus(await t.request('GET', '/api/v1/limits/KATANA'), 200).body.maxCount,
        5,
      );
      expectStatus(await t.request('DELETE', '/api/v1/limits/katana'), 204);
      expectError(await t.request('GET', '/api/v1/limits/katana'), 404, 'NOT_FOUND');
    });

    it('refuses bad input with a 400 that names the field', async () => {
      for (const body of [
        { name: 'no spaces', maxCount: 1 },
        { name: 'x', maxCount: -1 },
        { name: 'x', maxCount: 1, per: 'JOB' },
        { name: 'x', maxCount: 1, allowList: ['a'], denyList: ['b'] },
        { name: 'x' },
        { name: 'x', maxCount: 1, colour: 'red' },
      ]) {
        expectError(await t.request('POST', '/api/v1/limits', body), 400, 'VALIDATION');
      }
      expectError(await t.request('PATCH', '/api/v1/limits/nope', { maxCount: 1 }), 404);
      expectError(await t.request('PATCH', '/api/v1/limits/nope', {}), 400);
      const unknown = expectError(
        await t.request('POST', '/api/v1/jobs', {
          type: 'command-line',
          parameters: { executable: 'echo' },
          limits: ['not-made'],
        }),
        400,
        'VALIDATION',
      );
      assert.match(unknown.body.message, /limit "not-made" does not exist/);
    });

    it('a job naming a full limit waits with the reason, and runs when it has room', async () => {
      expectStatus(await t.request('POST', '/api/v1/limits', { name: 'nuke', maxCount: 1 }), 201);
      const a = await submit(t, { frames: '1-2', limits: ['nuke'], priority: 90 });
      assert.deepEqual((await getJob(t, a.id)).limits, ['nuke']);
      const n1 = await register(t, 'api-limit-1');
      const n2 = await register(t, 'api-limit-2');
      const first = await acquire(t, n1.id);
      assert.equal(first.job.id, a.id);
      assert.equal(await acquire(t, n2.id), undefined);
      const reasons = expectStatus(
        await t.request('GET', `/api/v1/jobs/${a.id}/waiting-reasons`),
        200,
      ).body.reasons;
      assert.deepEqual(reasons, [
        { code: 'LIMIT_FULL', message: 'waiting for licence nuke (1/1 in use)' },
      ]);
      assert.equal(expectStatus(await t.request('GET', '/api/v1/limits/nuke'), 200).body.inUse, 1);
      expectStatus(await t.request('PATCH', '/api/v1/limits/nuke', { maxCount: 2 }), 200);
      assert.equal((await acquire(t, n2.id))?.job.id, a.id);
      expectStatus(await report(t, first.execution.id, 'start', { nodeId: n1.id }), 200);
      expectStatus(
        await report(t, first.execution.id, 'finish', {
          nodeId: n1.id,
          success: true,
          exitCode: 0,
        }),
        200,
      );

      // A change of the job's limits: none, and the job no longer waits for any.
      const b = await submit(t, { limits: ['nuke'] });
      expectStatus(await t.request('PATCH', `/api/v1/jobs/${b.id}`, { limits: [] }), 200);
      assert.deepEqual((await getJob(t, b.id)).limits, []);
      assert.equal((await acquire(t, n1.id))?.job.id, b.id);
    });
  });
}
