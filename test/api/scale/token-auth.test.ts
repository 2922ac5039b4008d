import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addUser } from '../../../src/engine/accounts/accounts.js';
import { TEST_DATABASES } from '../../helpers/databases.js';
import { startTestServer, type TestServer } from '../../helpers/http.js';

/*
 * Scale's login flow with auth on, as its clients do it: POST /api-token-auth/ (JSON, or a
 * form as `requests.post(url, data=…)` sends), then `Authorization: Token <token>`.
 */

for (const database of TEST_DATABASES) {
  describe(`Scale: token login (${database.name})`, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(database, { auth: true });
      await addUser(t.engine.ctx, 'analyst', 'user', 'an4lyst');
    });
    after(async () => {
      await t?.close();
    });

    it('logs in with JSON or a form; the token works as `Token` and as `Bearer`', async () => {
      const json = await t.request('POST', '/api-token-auth/', {
        username: 'analyst',
        password: 'an4lyst',
      });
      assert.equal(json.status, 200, JSON.stringify(json.body));
      assert.deepEqual(Object.keys(json.body), ['token']);
      const token = json.body.token as string;

      const form = await t.request(
        'POST',
        '/api-token-auth/',
        'username=analyst&password=an4lyst',
        {
          'content-type': 'application/x-www-form-urlencoded',
        },
      );
      assert.equal(form.status, 200, JSON.stringify(form.body));
      assert.equal(typeof form.body.token, 'string');

      const list = await t.request('GET', '/v6/jobs/', undefined, {
        authorization: `Token ${token}`,
      });
      assert.equal(list.status, 200);
      assert.equal(list.body.count, 0);
      const legacy = await t.request('GET', '/jobs/', undefined, {
        authorization: `Bearer ${token}`,
      });
      assert.equal(legacy.status, 200);
      // The login's token acts as that user: it submits as the analyst, not an admin.
      const typeDenied = await t.request(
        'POST',
        '/v6/job-types/',
        {},
        { authorization: `Token ${token}` },
      );
      assert.equal(typeDenied.status, 403);
      assert.equal(typeDenied.body.detail, 'You do not have permission to perform this action.');

      // Without it, and with a wrong one, Scale's 401.
      const none = await t.request('GET', '/v6/jobs/');
      assert.equal(none.status, 401);
      assert.equal(none.body.detail, 'Authentication credentials were not provided.');
      const wrong = await t.request('GET', '/v6/jobs/', undefined, {
        authorization: 'Token drv_nope',
      });
      assert.equal(wrong.status, 401);

      // Each login's token is listed, labelled, and expires.
      const tokens = await t.engine.ctx.db
        .selectFrom('api_tokens')
        .select(['name', 'expires_at'])
        .execute();
      assert.deepEqual(
        tokens.map((r) => r.name),
        ['scale login', 'scale login'],
      );
      assert.ok(tokens.every((r) => r.expires_at !== null));
    });

    it('refuses a wrong password or missing fields with DRF’s 400s', async () => {
      const wrong = await t.request('POST', '/api-token-auth/', {
        username: 'analyst',
        password: 'typo',
      });
      assert.equal(wrong.status, 400);
      assert.deepEqual(wrong.body, {
        non_field_errors: ['Unable to log in with provided credentials.'],
      });
      const missing = await t.request('POST', '/api-token-auth/', { username: 'analyst' });
      assert.equal(missing.status, 400);
      assert.deepEqual(missing.body, { password: ['This field is required.'] });
    });
  });

  it(`with auth off a wrong Scale password is still refused (${database.name})`, async () => {
    const t = await startTestServer(database, { auth: false });
    try {
      await addUser(t.engine.ctx, 'analyst', 'user', 'an4lyst');
      const wrong = await t.request('POST', '/api-token-auth/', {
        username: 'analyst',
        password: 'typo',
      });
      assert.equal(wrong.status, 400);
      const bad = await t.request('GET', '/v6/jobs/', undefined, {
        authorization: 'Token drv_nope',
      });
      assert.equal(bad.status, 401);
    } finally {
      await t.close();
    }
  });
}
