import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addUser, createToken } from '../../src/engine/accounts/accounts.js';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import { expectError, expectStatus, register } from './support.js';

/*
 * A pool's path mapping rules through the native API (docs/workers.md#path-mapping): read by
 * anyone, changed by admins, refused with a 400 naming the rule when wrong, and carried by
 * every work order of the pool's jobs.
 */

const WIN = {
  source_path_format: 'WINDOWS',
  source_path: 'P:\\projects',
  destination_path: '/mnt/p',
};
const MAC = {
  source_path_format: 'POSIX',
  source_path: '/Volumes/projects',
  destination_path: '/mnt/p',
};
const url = '/api/v1/pools/render/path-mapping-rules';

for (const database of TEST_DATABASES) {
  describe(`pool path mapping rules API (${database.name})`, () => {
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

    it('sets, adds, reads, removes and clears; only admins change them', async () => {
      const none = expectStatus(await t.request('GET', url, undefined, alice), 200).body;
      assert.deepEqual(none, { version: 'pathmapping-1.0', path_mapping_rules: [] });

      const set = expectStatus(
        await t.request(
          'PUT',
          url,
          {
            version: 'pathmapping-1.0',
            path_mapping_rules: [{ ...WIN, source_path_format: 'windows' }],
          },
          admin,
        ),
        200,
      ).body;
      // The format is stored as OpenJD writes it, whatever case it came in.
      assert.deepEqual(set.path_mapping_rules, [WIN]);
      const added = expectStatus(await t.request('POST', url, MAC, admin), 201).body;
      assert.deepEqual(added.path_mapping_rules, [WIN, MAC]);
      assert.deepEqual(
        expectStatus(await t.request('GET', url, undefined, alice), 200).body.path_mapping_rules,
        [WIN, MAC],
      );
      const all = expectStatus(
        await t.request('GET', '/api/v1/path-mapping-rules', undefined, alice),
        200,
      ).body;
      assert.deepEqual(all.items, [{ pool: 'render', path_mapping_rules: [WIN, MAC] }]);

      // A user may read but not change them.
      expectError(await t.request('POST', url, MAC, alice), 403, 'FORBIDDEN');
      expectError(await t.request('PUT', url, { path_mapping_rules: [] }, alice), 403);
      expectError(await t.request('DELETE', `${url}/0`, undefined, alice), 403);
      expectError(await t.request('DELETE', url, undefined, alice), 403);

      const removed = expectStatus(await t.request('DELETE', `${url}/0`, undefined, admin), 200);
      assert.deepEqual(removed.body.path_mapping_rules, [MAC]);
      expectError(await t.request('DELETE', `${url}/5`, undefined, admin), 404, 'NOT_FOUND');
      expectStatus(await t.request('DELETE', url, undefined, admin), 204);
      assert.deepEqual(
        expectStatus(await t.request('GET', url, undefined, admin), 200).body.path_mapping_rules,
        [],
      );
      // Rules are the pool's own: its scheduling mode is unchanged (and still unset).
      assert.equal(
        expectStatus(await t.request('GET', '/api/v1/pools/render', undefined, admin), 200).body
          .mode,
        'priority',
      );
    });

    it('refuses bad rules with a 400 that names the rule and the fault', async () => {
      const cases: [unknown, RegExp][] = [
        [
          { ...MAC, source_path_format: 'MACOS' },
          /path_mapping_rules\[0\]\.source_path_format must be POSIX or WINDOWS/,
        ],
        [{ ...MAC, source_path: 'Volumes/projects' }, /source_path must be an absolute POSIX path/],
        [{ ...WIN, source_path: '/projects' }, /source_path must be an absolute WINDOWS path/],
        [{ ...MAC, destination_path: 'mnt/p' }, /destination_path must be an absolute path/],
        [{ ...MAC, destination_path: '/mnt/p\nrm -rf' }, /must not hold control characters/],
        [{ ...MAC, source_path: `/${'x'.repeat(1100)}` }, /source_path/],
        [{ ...MAC, colour: 'red' }, /colour|additional/],
        [{ source_path: '/a', destination_path: '/b' }, /source_path_format/],
      ];
      for (const [rule, message] of cases) {
        const res = expectError(
          await t.request('PUT', url, { path_mapping_rules: [rule] }, admin),
          400,
          'VALIDATION',
          JSON.stringify(rule),
        );
        assert.match(res.body.message, message, JSON.stringify(rule));
      }
      let res = expectError(
        await t.request(
          'PUT',
          url,
          {
            path_mapping_rules: [
              MAC,
              { ...MAC, source_path: '/Volumes/projects/', destination_path: '/x' },
            ],
          },
          admin,
        ),
        400,
      );
      assert.match(
        res.body.message,
        /path_mapping_rules\[1\]\.source_path .* already mapped by path_mapping_rules\[0\]/,
      );
      // Windows paths match without regard to case or separator: the same place.
      res = expectError(
        await t.request(
          'PUT',
          url,
          { path_mapping_rules: [WIN, { ...WIN, source_path: 'p:/Projects' }] },
          admin,
        ),
        400,
      );
      assert.match(res.body.message, /already mapped/);
      const many = Array.from({ length: 101 }, (_, i) => ({ ...MAC, source_path: `/v/${i}` }));
      expectError(await t.request('PUT', url, { path_mapping_rules: many }, admin), 400);
      expectStatus(
        await t.request('PUT', url, { path_mapping_rules: many.slice(0, 100) }, admin),
        200,
      );
      res = expectError(await t.request('POST', url, WIN, admin), 400);
      assert.match(res.body.message, /holds 100 path mapping rules already/);
      expectError(
        await t.request('PUT', url, { version: 'pathmapping-2.0', path_mapping_rules: [] }, admin),
        400,
      );
      expectError(await t.request('DELETE', `${url}/x`, undefined, admin), 400);
      // Nothing of a refused change was kept.
      assert.equal(
        expectStatus(await t.request('GET', url, undefined, admin), 200).body.path_mapping_rules
          .length,
        100,
      );
    });
  });

  describe(`work orders carry their pool's path mapping rules (${database.name})`, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(database);
    });
    after(async () => {
      await t?.close();
    });

    const submit = async (pool: string) =>
      expectStatus(
        await t.request('POST', '/api/v1/jobs', {
          type: 'command-line',
          frames: '1',
          pool,
          parameters: { executable: 'true' },
        }),
        201,
      ).body.id as number;
    const claim = async (nodeId: number) => {
      const res = expectStatus(
        await t.request('POST', `/api/v1/nodes/${nodeId}/claims`, { max: 2 }),
        200,
      );
      return res.body.orders as { job: { id: number }; pathMappingRules?: unknown[] }[];
    };

    it("an order carries the rules of its job's pool, as they are at the claim", async () => {
      const node = await register(t, 'mapped', { pools: ['render', 'comp'] });
      expectStatus(
        await t.request('PUT', '/api/v1/pools/render/path-mapping-rules', {
          path_mapping_rules: [MAC],
        }),
        200,
      );
      const render = await submit('render');
      const comp = await submit('comp');
      const orders = await claim(node.id);
      const byJob = new Map(orders.map((o) => [o.job.id, o]));
      assert.deepEqual(byJob.get(render)?.pathMappingRules, [MAC]);
      assert.equal(byJob.get(comp)?.pathMappingRules, undefined);

      // A change reaches the next order at once (the cache is emptied by the change).
      expectStatus(await t.request('POST', '/api/v1/pools/render/path-mapping-rules', WIN), 201);
      const next = await submit('render');
      const other = await register(t, 'mapped-too', { pools: ['render'] });
      const acquired = expectStatus(
        await t.request('POST', `/api/v1/nodes/${other.id}/acquire`),
        200,
      ).body;
      assert.equal(acquired.job.id, next);
      assert.deepEqual(acquired.pathMappingRules, [MAC, WIN]);
    });
  });
}
