import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addUser, createToken } from '../../src/engine/accounts/accounts.js';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import { expectError, expectStatus, register } from './support.js';

/*
 * PATCH /api/v1/nodes/:id (issue 18): an admin changes the pools and groups a node serves,
 * the dispatcher follows at once, a user is refused, and bad names get a 400 that says why.
 * The admin's lists stick when the worker registers again with its own, until the admin
 * sets them to null, which gives the node its worker's latest lists back at once.
 */

for (const database of TEST_DATABASES) {
  describe(`node pools and groups (${database.name})`, () => {
    let t: TestServer;
    let admin: Record<string, string>;
    let user: Record<string, string>;
    before(async () => {
      t = await startTestServer(database, { auth: true });
      await addUser(t.engine.ctx, 'root', 'admin');
      await addUser(t.engine.ctx, 'alice', 'user');
      admin = { authorization: `Bearer ${await createToken(t.engine.ctx, 'root')}` };
      user = { authorization: `Bearer ${await createToken(t.engine.ctx, 'alice')}` };
    });
    after(async () => {
      await t?.close();
    });

    it('lets an admin change them, and dispatch follows', async () => {
      const node = await register(t, 'render-07', { pools: ['cpu'] }, admin);
      const job = expectStatus(
        await t.request(
          'POST',
          '/api/v1/jobs',
          { type: 'command-line', parameters: { executable: 'echo' }, frames: '1', pool: 'nuke' },
          admin,
        ),
        201,
      ).body;
      const acquire = () =>
        t.request('POST', `/api/v1/nodes/${node.id}/acquire?wait=0`, undefined, admin);
      assert.equal((await acquire()).status, 204, 'not in pool nuke yet');

      const changed = await t.request(
        'PATCH',
        `/api/v1/nodes/${node.id}`,
        { pools: ['nuke', 'cpu', 'nuke'], groups: ['lighting'] },
        admin,
      );
      expectStatus(changed, 200);
      assert.deepEqual(changed.body.pools, ['cpu', 'nuke']);
      assert.deepEqual(changed.body.groups, ['lighting']);
      const one = expectStatus(
        await t.request('GET', `/api/v1/nodes/${node.id}`, undefined, admin),
        200,
      );
      assert.deepEqual(one.body.pools, ['cpu', 'nuke']);
      const order = expectStatus(await acquire(), 200).body;
      assert.equal(order.job.id, job.id);
    });

    it("keeps an admin's lists when the worker registers again, until they are cleared", async () => {
      const node = await register(t, 'render-09', { pools: ['cpu'], groups: ['fx'] }, admin);
      assert.deepEqual(node.membershipsSetBy, { pools: 'worker', groups: 'worker' });
      const patch = (body: unknown) => t.request('PATCH', `/api/v1/nodes/${node.id}`, body, admin);
      expectStatus(await patch({ pools: ['nuke'] }), 200);

      // The worker restarts with other lists: the admin's pools stay, its groups follow.
      const again = await register(t, 'render-09', { pools: ['gpu'], groups: ['comp'] }, admin);
      assert.equal(again.id, node.id);
      assert.deepEqual(again.pools, ['nuke']);
      assert.deepEqual(again.groups, ['comp']);
      assert.deepEqual(again.membershipsSetBy, { pools: 'admin', groups: 'worker' });

      // Dispatch follows the admin's pool, not the worker's.
      const submit = (pool: string) =>
        t.request(
          'POST',
          '/api/v1/jobs',
          { type: 'command-line', parameters: { executable: 'echo' }, frames: '1', pool },
          admin,
        );
      const gpuJob = expectStatus(await submit('gpu'), 201).body;
      const nukeJob = expectStatus(await submit('nuke'), 201).body;
      const acquire = () =>
        t.request('POST', `/api/v1/nodes/${node.id}/acquire?wait=0`, undefined, admin);
      const first = expectStatus(await acquire(), 200).body;
      assert.equal(first.job.id, nukeJob.id);
      for (const what of ['start', 'finish'] as const) {
        const res = await t.request(
          'POST',
          `/api/v1/executions/${first.execution.id}/${what}`,
          { nodeId: node.id, ...(what === 'finish' ? { success: true, exitCode: 0 } : {}) },
          admin,
        );
        expectStatus(res, 200, what);
      }
      assert.equal((await acquire()).status, 204, 'the gpu job is not for this node');

      // Groups set by an admin stick too; an empty list is a list.
      expectStatus(await patch({ groups: [] }), 200);
      const third = await register(t, 'render-09', { pools: ['gpu'], groups: ['comp'] }, admin);
      assert.deepEqual(third.groups, []);
      assert.deepEqual(third.membershipsSetBy, { pools: 'admin', groups: 'admin' });

      // Cleared: the worker's latest lists at once, and its next registration is followed.
      const cleared = expectStatus(await patch({ pools: null, groups: null }), 200).body;
      assert.deepEqual(cleared.pools, ['gpu']);
      assert.deepEqual(cleared.groups, ['comp']);
      assert.deepEqual(cleared.membershipsSetBy, { pools: 'worker', groups: 'worker' });
      const second = expectStatus(await acquire(), 200).body;
      assert.equal(second.job.id, gpuJob.id);
      const last = await register(t, 'render-09', { pools: ['cpu'] }, admin);
      assert.deepEqual(last.pools, ['cpu']);
      assert.deepEqual(last.groups, []);
    });

    it('refuses users, bad names, empty bodies and unknown nodes', async () => {
      const node = await register(t, 'render-08', {}, admin);
      expectError(
        await t.request('PATCH', `/api/v1/nodes/${node.id}`, { pools: ['a'] }, user),
        403,
      );
      const comma = expectError(
        await t.request('PATCH', `/api/v1/nodes/${node.id}`, { pools: ['a,b'] }, admin),
        400,
      );
      assert.match(comma.body.message, /pools/);
      expectError(
        await t.request('PATCH', `/api/v1/nodes/${node.id}`, { pools: [' a'] }, admin),
        400,
      );
      expectError(await t.request('PATCH', `/api/v1/nodes/${node.id}`, {}, admin), 400);
      expectError(await t.request('PATCH', `/api/v1/nodes/${node.id}`, { slots: 4 }, admin), 400);
      expectError(
        await t.request('PATCH', `/api/v1/nodes/${node.id}`, { pools: Array(65).fill('p') }, admin),
        400,
      );
      expectError(await t.request('PATCH', '/api/v1/nodes/999999', { pools: [] }, admin), 404);
      const cleared = await t.request('PATCH', `/api/v1/nodes/${node.id}`, { groups: [] }, admin);
      assert.deepEqual(expectStatus(cleared, 200).body.groups, []);
    });
  });
}
