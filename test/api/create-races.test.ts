/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import { manifest } from './scale/support.js';
import { startUfdl, type UfdlWorld } from './ufdl/support.js';

/*
 * Issue 12, point 4: concurrent creates of the same name. Each request checks that the name
 * is free and inserts it; on PostgreSQL all but one insert hit the unique constraint and
 * answered 500. They now answer as on SQLite: the same node for a registration, and the
 * face's own conflict for a create.
 */

const N = 6;
const statuses = (results: { status: number }[]) => results.map((r) => r.status).sort();

for (const database of TEST_DATABASES) {
  describe(`concurrent creates of one name (${database.name})`, () => {
    let w: UfdlWorld;
    let t: TestServer;
    before(async () => {
      w = await startUfdl(database);
      t = await startTestServer(database);
    });
    after(async () => {
      await w?.close();
      await t?.close();
    });
    // UFDL as a logged-in user (its face needs one); the others on a server without auth.
    const admin = (method: string, path: string, body: unknown) =>
      (path.startsWith('/v1/')
        ? w.admin.call(method, path, body)
        : t.request(method, path, body)) as Promise<{
        status: number;
        body: any;
      }>;

    it('native node registration: every call gets the one node', async () => {
      const results = await Promise.all(
        Array.from({ length: N }, () => admin('POST', '/api/v1/nodes', { name: 'same' })),
      );
      assert.deepEqual(statuses(results), Array(N).fill(200), JSON.stringify(results));
      assert.equal(new Set(results.map((r) => r.body.id)).size, 1);
    });

    it('native job type: one 201, the rest 409', async () => {
      const body = { name: 'raced', definition: { command: ['true'] } };
      const results = await Promise.all(
        Array.from({ length: N }, () => admin('POST', '/api/v1/job-types', body)),
      );
      assert.deepEqual(
        statuses(results),
        [201, ...Array(N - 1).fill(409)],
        JSON.stringify(results),
      );
    });

    it('Scale job type: one created, the rest answered as Scale does', async () => {
      const results = await Promise.all(
        Array.from({ length: N }, () =>
          admin('POST', '/v6/job-types/', { manifest: manifest('raced-seed') }),
        ),
      );
      assert.ok(
        results.every((r) => r.status < 500),
        JSON.stringify(results),
      );
      assert.equal(results.filter((r) => r.status === 201).length, 1, JSON.stringify(results));
    });

    it('UFDL nodes/create: one 201, the rest the unique-set 400', async () => {
      const body = { ip: '10.9.9.9', index: 0, gpu_mem: 1, cpu_mem: 1 };
      const results = await Promise.all(
        Array.from({ length: N }, () => admin('POST', '/v1/nodes/create', body)),
      );
      assert.deepEqual(
        statuses(results),
        [201, ...Array(N - 1).fill(400)],
        JSON.stringify(results),
      );
      for (const r of results.filter((x) => x.status === 400)) {
        assert.deepEqual(r.body, {
          non_field_errors: ['The fields ip, index must make a unique set.'],
        });
      }
    });
  });
}
