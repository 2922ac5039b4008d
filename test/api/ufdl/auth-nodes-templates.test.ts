/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { addUser } from '../../../src/engine/accounts/accounts.js';
import { TEST_DATABASES } from '../../helpers/databases.js';
import { startTestServer } from '../../helpers/http.js';
import {
  defineTemplate,
  expect,
  expectDetail,
  registerNode,
  startUfdl,
  UfdlClient,
} from './support.js';

/*
 * What UFDL's programs need around the jobs: /v1/auth (obtain, refresh, verify),
 * /v1/nodes (list with filter, create, retrieve, update, ping) and /v1/job-templates
 * (list, retrieve; create-job is in the other suites).
 */

const claims = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8'));

for (const database of TEST_DATABASES) {
  describe(`UFDL auth, nodes, templates (${database.name})`, () => {
    test('obtain, refresh, verify; the access token works as Bearer; tokens expire', async () => {
      const w = await startUfdl(database);
      try {
        const pair = expect(
          await w.t.request('POST', '/v1/auth/obtain', { username: 'alice', password: 'alice-pw' }),
          200,
          'obtain',
        );
        assert.deepEqual(Object.keys(pair).sort(), ['access', 'refresh']);
        assert.equal(claims(pair.access).jtt, 'access');
        assert.equal(claims(pair.refresh).jtt, 'refresh');
        assert.equal(typeof claims(pair.access).upk, 'number');
        expectDetail(
          await w.t.request('POST', '/v1/auth/obtain', { username: 'alice', password: 'wrong' }),
          401,
          'No active account found with the given credentials',
        );
        const missing = await w.t.request('POST', '/v1/auth/obtain', { username: 'alice' });
        expect(missing, 400, 'missing password');
        assert.deepEqual(missing.body.password, ['This field is required.']);

        expect(await w.t.request('POST', '/v1/auth/verify', { token: pair.access }), 200, 'verify');
        expectDetail(
          await w.t.request('POST', '/v1/auth/verify', { token: 'x.y.z' }),
          401,
          'Token is invalid or expired',
        );
        const refreshed = expect(
          await w.t.request('POST', '/v1/auth/refresh/', { refresh: pair.refresh }),
          200,
          'refresh',
        );
        assert.deepEqual(Object.keys(refreshed), ['access']);
        expectDetail(
          await w.t.request('POST', '/v1/auth/refresh', { refresh: pair.access }),
          401,
          'Token is invalid or expired',
        );

        const bearer = { authorization: `Bearer ${refreshed.access}` };
        expect(
          await w.t.request('POST', '/v1/jobs/list', undefined, bearer),
          200,
          'list with access',
        );
        // Five minutes later the access token is refused with 401, which makes clients refresh.
        w.t.clock.advance(5 * 60 * 1000 + 1);
        expectDetail(
          await w.t.request('POST', '/v1/jobs/list', undefined, bearer),
          401,
          /not valid/,
        );
        expect(
          await w.t.request('POST', '/v1/auth/refresh', { refresh: pair.refresh }),
          200,
          'refresh still valid',
        );
        // A Drover API token is a Bearer token too.
        const { createToken } = await import('../../../src/engine/accounts/accounts.js');
        const drover = await createToken(w.t.engine.ctx, 'alice');
        expect(
          await w.t.request('POST', '/v1/jobs/list', undefined, {
            authorization: `Bearer ${drover}`,
          }),
          200,
          'drover token',
        );
      } finally {
        await w.close();
      }
    });

    test('without auth a caller without credentials is the local admin, but credentials are checked (issue 11, hole 6)', async () => {
      const t = await startTestServer(database);
      try {
        await addUser(t.engine.ctx, 'alice', 'user', 'alice-pw');
        const anonymous = new UfdlClient(t);
        expect(await anonymous.call('POST', '/v1/jobs/list'), 200, 'list as the local admin');
        expect(
          await anonymous.call('DELETE', '/v1/jobs/1/cancel'),
          404,
          'admin action reaches the job lookup',
        );
        // A wrong password, and a name with no account, are refused as with auth on.
        for (const [username, password] of [
          ['alice', 'wrong'],
          ['anyone', 'anything'],
        ]) {
          expectDetail(
            await t.request('POST', '/v1/auth/obtain', { username, password }),
            401,
            'No active account found with the given credentials',
            `obtain ${username}`,
          );
        }
        // An invalid access token is 401, so a client refreshes instead of carrying on.
        const forged = new UfdlClient(t);
        forged.access = 'aaa.bbb.ccc';
        const bad = await forged.call('POST', '/v1/jobs/list');
        expectDetail(bad, 401, 'Given token not valid for any token type');
        const drover = await forged.call('POST', '/v1/jobs/list', undefined, {
          authorization: 'Bearer drv_not-a-token',
        });
        expectDetail(drover, 401, 'Given token not valid for any token type');
        // The right password still logs in, and the token acts as that user.
        const alice = new UfdlClient(t, 'alice', 'alice-pw');
        expect(await alice.call('POST', '/v1/jobs/list'), 200, 'list as alice');
        expectDetail(await alice.call('DELETE', '/v1/jobs/1/cancel'), 403, /permission/);
      } finally {
        await t.close();
      }
    });

    test('nodes: create (201), list with filter, retrieve, partial update, ping', async () => {
      const w = await startUfdl(database);
      try {
        const node = await registerNode(w, '192.168.1.2', 0);
        const json = expect(await node.call('GET', `/v1/nodes/${node.nodeId}`), 200, 'retrieve');
        assert.deepEqual(Object.keys(json), [
          'pk',
          'ip',
          'index',
          'driver_version',
          'hardware_generation',
          'gpu_mem',
          'cpu_mem',
          'last_seen',
          'current_job',
        ]);
        assert.equal(json.ip, '192.168.1.2');
        assert.equal(json.gpu_mem, 8000);
        const second = await registerNode(w, '192.168.1.2', 1);
        assert.notEqual(second.nodeId, node.nodeId);
        const dup = await w.user.call('POST', '/v1/nodes/create', {
          ip: '192.168.1.2',
          index: 1,
          cpu_mem: 1,
        });
        expect(dup, 400, 'duplicate');
        assert.ok(dup.body.non_field_errors);
        const invalid = await w.user.call('POST', '/v1/nodes/create', { index: 'x' });
        expect(invalid, 400, 'invalid');
        assert.deepEqual(invalid.body.ip, ['This field is required.']);
        const listed = expect(
          await w.user.call('POST', '/v1/nodes/list', {
            expressions: [{ type: 'exact', field: 'index', value: 1 }],
          }),
          200,
          'list',
        );
        assert.deepEqual(
          listed.map((n: any) => n.pk),
          [second.nodeId],
        );
        const patched = expect(
          await w.user.call('PATCH', `/v1/nodes/${node.nodeId}`, { driver_version: '550' }),
          200,
          'patch',
        );
        assert.equal(patched.driver_version, '550');
        assert.equal(patched.ip, '192.168.1.2');
        // Natively it is a Drover node named after ip and index.
        const { getNode } = await import('../../../src/engine/queries.js');
        assert.equal((await getNode(w.t.engine.ctx, node.nodeId!)).name, '192.168.1.2#0');
        expect(await node.call('GET', '/v1/nodes/ping'), 204, 'ping');
        expectDetail(await w.user.call('GET', '/v1/nodes/ping'), 403, /permission/);
        expectDetail(await w.user.call('GET', '/v1/nodes/999'), 404, 'Not found.');
      } finally {
        await w.close();
      }
    });

    test('job templates: list (filter) and retrieve are Drover job types', async () => {
      const w = await startUfdl(database);
      try {
        const tpl = await defineTemplate(w);
        const all = expect(await w.user.call('POST', '/v1/job-templates/list'), 200, 'list');
        assert.ok(all.some((t: any) => t.name === 'command-line'));
        const named = expect(
          await w.user.call('POST', '/v1/job-templates/list', {
            expressions: [{ type: 'exact', field: 'name', value: 'train' }],
          }),
          200,
          'filtered',
        );
        assert.deepEqual(
          named.map((t: any) => t.pk),
          [tpl],
        );
        const one = expect(await w.user.call('GET', `/v1/job-templates/${tpl}`), 200, 'retrieve');
        assert.equal(one.version, 1);
        assert.deepEqual(one.parameters.epochs.types, ['int']);
        expectDetail(await w.user.call('GET', '/v1/job-templates/999'), 404, 'Not found.');
      } finally {
        await w.close();
      }
    });
  });
}
