import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addUser, createToken } from '../../src/engine/accounts/accounts.js';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import { expectError, expectStatus } from './support.js';

/*
 * Pools' scheduling modes through the native API (docs/scheduling.md): set, read and
 * forgotten at /api/v1/pools by admins, read by anyone, bad input refused with a 400.
 */

for (const database of TEST_DATABASES) {
  describe(`pools API (${database.name})`, () => {
    let t: TestServer;
    let admin: Record<string, string>;
    let alice: Record<string, string>;
    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
    before(async () => {
      t = await startTestServer(database, { auth: true });
      await addUser(t.engine.ctx, 'root', 'admin');
      await addUser(t.engine.ctx, 'alice', 'user');
      admin = bearer(await createToken(t.engine.ctx, 'root'));
      alice = bearer(await createToken(t.engine.ctx, 'alice'));
    });
    after(async () => {
      await t?.close();
    });

    it('sets, lists, reads and forgets a pool; only admins change it', async () => {
      const unset = expectStatus(
        await t.request('GET', '/api/v1/pools/farm', undefined, alice),
        200,
      );
      assert.equal(unset.body.mode, 'priority');
      const set = expectStatus(
        await t.request(
          'PUT',
          '/api/v1/pools/farm',
          {
            mode: 'weighted',
            shares: [
              { user: 'bob', share: 2, burst: 8 },
              { user: 'alice', share: 1 },
            ],
          },
          admin,
        ),
        200,
      ).body;
      assert.equal(set.mode, 'weighted');
      assert.deepEqual(set.shares, [
        { user: 'alice', share: 1, burst: null, running: 0 },
        { user: 'bob', share: 2, burst: 8, running: 0 },
      ]);
      expectError(await t.request('PUT', '/api/v1/pools/farm', { mode: 'balanced' }, alice), 403);
      const list = expectStatus(await t.request('GET', '/api/v1/pools', undefined, alice), 200);
      assert.deepEqual(
        list.body.items.map((p: { name: string }) => p.name),
        ['farm'],
      );
      expectStatus(await t.request('DELETE', '/api/v1/pools/farm', undefined, admin), 204);
      expectError(await t.request('DELETE', '/api/v1/pools/farm', undefined, admin), 404);
      assert.equal(
        expectStatus(await t.request('GET', '/api/v1/pools/farm', undefined, admin), 200).body.mode,
        'priority',
      );
    });

    it('refuses bad input with a 400 that says what is wrong', async () => {
      for (const body of [
        {},
        { mode: 'fair' },
        { mode: 'weighted', shares: [{ user: 'bob', share: 0 }] },
        { mode: 'weighted', shares: [{ user: 'bob', share: 1, burst: -1 }] },
        { mode: 'weighted', shares: [{ user: '', share: 1 }] },
        { mode: 'balanced', colour: 'red' },
      ]) {
        expectError(await t.request('PUT', '/api/v1/pools/farm', body, admin), 400, 'VALIDATION');
      }
      const notWeighted = expectError(
        await t.request(
          'PUT',
          '/api/v1/pools/farm',
          { mode: 'balanced', shares: [{ user: 'bob', share: 1 }] },
          admin,
        ),
        400,
        'VALIDATION',
      );
      assert.match(notWeighted.body.message, /shares apply to weighted pools only/);
      const twice = expectError(
        await t.request(
          'PUT',
          '/api/v1/pools/farm',
          {
            mode: 'weighted',
            shares: [
              { user: 'bob', share: 1 },
              { user: 'bob', share: 2 },
            ],
          },
          admin,
        ),
        400,
      );
      assert.match(twice.body.message, /user "bob" has two shares/);
    });

    it('a pool shared by project, and jobs that name their project', async () => {
      const set = expectStatus(
        await t.request(
          'PUT',
          '/api/v1/pools/shows',
          {
            mode: 'weighted',
            shareBy: 'project',
            shares: [{ project: 'show-a', share: 2, burst: 40 }],
          },
          admin,
        ),
        200,
      ).body;
      assert.equal(set.shareBy, 'project');
      assert.deepEqual(set.shares, [{ project: 'show-a', share: 2, burst: 40, running: 0 }]);
      for (const [body, message] of [
        [
          { mode: 'weighted', shareBy: 'project', shares: [{ user: 'bob', share: 1 }] },
          /a pool shared by project takes shares of projects/,
        ],
        [{ mode: 'weighted', shares: [{ project: 'show-a', share: 1 }] }, /shareBy "project"/],
        [{ mode: 'balanced', shareBy: 'project' }, /shareBy applies to weighted pools only/],
        [{ mode: 'weighted', shareBy: 'show' }, /shareBy/],
      ] as const) {
        const refused = expectError(
          await t.request('PUT', '/api/v1/pools/shows', body, admin),
          400,
          'VALIDATION',
        );
        assert.match(refused.body.message, message);
      }

      const submit = (project?: string) =>
        t.request(
          'POST',
          '/api/v1/jobs',
          {
            type: 'command-line',
            pool: 'shows',
            parameters: { executable: 'echo' },
            ...(project === undefined ? {} : { project }),
          },
          alice,
        );
      const a = expectStatus(await submit('show-a'), 201).body;
      assert.equal(a.project, 'show-a');
      const none = expectStatus(await submit(), 201).body;
      assert.equal(none.project, '');
      expectError(await submit('x'.repeat(201)), 400, 'VALIDATION');
      const moved = expectStatus(
        await t.request('PATCH', `/api/v1/jobs/${none.id}`, { project: 'show-b' }, alice),
        200,
      ).body;
      assert.equal(moved.project, 'show-b');
      const listed = async (query: string) =>
        expectStatus(await t.request('GET', `/api/v1/jobs?${query}`, undefined, alice), 200)
          .body.items.map((j: { id: number }) => j.id)
          .sort();
      assert.deepEqual(await listed('project=show-a'), [a.id]);
      assert.deepEqual(await listed('project=show-a,show-b'), [a.id, none.id].sort());
      assert.deepEqual(await listed('project=show-c'), []);
    });
  });
}
