import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addUser, createToken } from '../../src/engine/accounts/accounts.js';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import { expectError, expectStatus } from './support.js';

/*
 * Issue 18: GET /whoami, by which the web UI offers admins' buttons (enable/disable a node)
 * only to admins: each token's user and role, 401 without one, the local admin with auth off.
 */

for (const database of TEST_DATABASES) {
  describe(`GET /whoami (${database.name})`, () => {
    let t: TestServer;
    let open: TestServer;
    before(async () => {
      t = await startTestServer(database, { auth: true });
      open = await startTestServer(database);
    });
    after(async () => {
      await t?.close();
      await open?.close();
    });

    it("answers each token's user and role, and 401 without a token", async () => {
      await addUser(t.engine.ctx, 'root', 'admin');
      await addUser(t.engine.ctx, 'alice', 'user');
      const as = async (user: string) => {
        const token = await createToken(t.engine.ctx, user);
        return t.request('GET', '/api/v1/whoami', undefined, { authorization: `Bearer ${token}` });
      };
      assert.deepEqual(expectStatus(await as('root'), 200).body, { name: 'root', role: 'admin' });
      assert.deepEqual(expectStatus(await as('alice'), 200).body, { name: 'alice', role: 'user' });
      expectError(await t.request('GET', '/api/v1/whoami'), 401);
      expectError(await open.request('GET', '/api/v1/whoami?x=1'), 400);
      assert.deepEqual(expectStatus(await open.request('GET', '/api/v1/whoami'), 200).body, {
        name: 'local',
        role: 'admin',
      });
    });
  });
}
