import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addUser, createToken } from '../../src/engine/accounts/accounts.js';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import { expectError, expectStatus } from './support.js';

const JOB = { type: 'command-line', parameters: { executable: 'echo' }, frames: '1-3' };

for (const database of TEST_DATABASES) {
  describe(`native API: authentication and roles (${database.name})`, () => {
    let t: TestServer;
    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
    let admin: Record<string, string>;
    let user: Record<string, string>;
    let node: Record<string, string>;

    before(async () => {
      t = await startTestServer(database, { auth: true });
      const ctx = t.engine.ctx;
      await addUser(ctx, 'root', 'admin');
      await addUser(ctx, 'alice', 'user');
      await addUser(ctx, 'worker', 'node');
      admin = bearer(await createToken(ctx, 'root'));
      user = bearer(await createToken(ctx, 'alice'));
      node = bearer(await createToken(ctx, 'worker'));
    });
    after(async () => {
      await t?.close();
    });

    it('answers 401 with WWW-Authenticate without a valid token', async () => {
      const attempts: [string, string, unknown, Record<string, string>][] = [
        ['POST', '/api/v1/jobs', JOB, {}],
        ['GET', '/api/v1/jobs', undefined, {}],
        ['GET', '/api/v1/job-types', undefined, {}],
        ['POST', '/api/v1/nodes', { name: 'sneaky' }, {}],
        ['GET', '/api/v1/jobs', undefined, { authorization: 'Bearer drv_not-a-real-token' }],
        ['GET', '/api/v1/jobs', undefined, { authorization: 'Basic YWxpY2U6c2VjcmV0' }],
        ['GET', '/api/v1/jobs', undefined, { authorization: 'Bearer' }],
      ];
      for (const [method, path, body, headers] of attempts) {
        const res = await t.request(method, path, body, headers);
        expectError(res, 401, 'UNAUTHENTICATED', `${method} ${path} ${JSON.stringify(headers)}`);
        assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="drover"');
        assert.match(res.body.message, /Authorization: Bearer/);
      }
      // Nothing was created by the refused requests.
      const jobs = expectStatus(await t.request('GET', '/api/v1/jobs', undefined, admin), 200);
      assert.equal(jobs.body.total, 0);
      const nodes = expectStatus(await t.request('GET', '/api/v1/nodes', undefined, admin), 200);
      assert.equal(nodes.body.total, 0);
    });

    it('lets a user submit and manage jobs, as itself only', async () => {
      const res = await t.request('POST', '/api/v1/jobs', JOB, user);
      expectStatus(res, 201);
      assert.equal(res.body.user, 'alice');
      assert.equal(res.body.tasks.total, 3);

      const forOther = await t.request('POST', '/api/v1/jobs', { ...JOB, user: 'bob' }, user);
      expectError(forOther, 403, 'FORBIDDEN');
      assert.match(forOther.body.message, /only admins may submit jobs for another user/);
      const asSelf = await t.request('POST', '/api/v1/jobs', { ...JOB, user: 'alice' }, user);
      expectStatus(asSelf, 201);

      const list = expectStatus(
        await t.request('GET', '/api/v1/jobs?user=alice', undefined, user),
        200,
      );
      assert.equal(list.body.total, 2);
      const suspended = await t.request(
        'POST',
        `/api/v1/jobs/${res.body.id}/suspend`,
        undefined,
        user,
      );
      expectStatus(suspended, 200);
      assert.equal(suspended.body.state, 'SUSPENDED');
      expectStatus(
        await t.request('POST', `/api/v1/jobs/${res.body.id}/resume`, undefined, user),
        200,
      );
    });

    it('lets an admin submit for another user', async () => {
      const res = await t.request('POST', '/api/v1/jobs', { ...JOB, user: 'bob' }, admin);
      expectStatus(res, 201);
      assert.equal(res.body.user, 'bob');
    });

    it('lets a node token use the worker protocol only', async () => {
      const reg = await t.request('POST', '/api/v1/nodes', { name: 'render-01' }, node);
      expectStatus(reg, 200);
      assert.equal(reg.body.name, 'render-01');
      const nodeId = reg.body.id;

      const order = await t.request('POST', `/api/v1/nodes/${nodeId}/acquire`, undefined, node);
      expectStatus(order, 200);
      const executionId = order.body.execution.id;
      assert.equal(order.body.execution.nodeId, nodeId);
      expectStatus(
        await t.request('POST', `/api/v1/executions/${executionId}/start`, { nodeId }, node),
        200,
      );
      const fin = await t.request(
        'POST',
        `/api/v1/executions/${executionId}/finish`,
        { nodeId, success: true },
        node,
      );
      expectStatus(fin, 200);
      assert.equal(fin.body.state, 'COMPLETED');
      expectStatus(
        await t.request('POST', `/api/v1/nodes/${nodeId}/heartbeat`, { executions: [] }, node),
        200,
      );
      expectStatus(await t.request('GET', `/api/v1/nodes/${nodeId}`, undefined, node), 200);

      // Everything else is refused with 403.
      const denied: [string, string, unknown][] = [
        ['POST', '/api/v1/jobs', JOB],
        ['GET', '/api/v1/jobs', undefined],
        ['GET', `/api/v1/jobs/${order.body.job.id}`, undefined],
        ['POST', `/api/v1/jobs/${order.body.job.id}/cancel`, undefined],
        ['GET', '/api/v1/job-types', undefined],
        ['GET', `/api/v1/executions/${executionId}`, undefined],
        ['GET', '/api/v1/nodes', undefined],
        ['POST', `/api/v1/nodes/${nodeId}/disable`, undefined],
      ];
      for (const [method, path, body] of denied) {
        const res = await t.request(method, path, body, node);
        expectError(res, 403, 'FORBIDDEN', `${method} ${path}`);
        assert.match(
          res.body.message,
          /^worker \(node\) may not do this; it needs (user or )?admin$/,
        );
      }
      // The refused cancel changed nothing.
      const job = expectStatus(
        await t.request('GET', `/api/v1/jobs/${order.body.job.id}`, undefined, admin),
        200,
      );
      assert.notEqual(job.body.state, 'CANCELED');
    });

    it('keeps health, readiness, metrics and the API document reachable without a token', async () => {
      // Registered without requireRole: load balancers and probes carry no token.
      const health = await t.request('GET', '/api/v1/health');
      expectStatus(health, 200);
      assert.deepEqual(health.body, { status: 'ok' });
      const ready = await t.request('GET', '/api/v1/ready');
      expectStatus(ready, 200);
      assert.deepEqual(ready.body, { status: 'ready', database: database.name });

      const metrics = await t.request('GET', '/metrics');
      expectStatus(metrics, 200);
      assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain/);
      const text = metrics.body as string;
      assert.equal(typeof text, 'string');
      assert.match(text, /^# TYPE drover_jobs gauge$/m);
      assert.match(text, /^# TYPE drover_dispatches_total counter$/m);
      // Exact figures: compare with what the API reports.
      const queued = (await t.request('GET', '/api/v1/jobs?state=QUEUED', undefined, admin)).body
        .total;
      const running = (await t.request('GET', '/api/v1/jobs?state=RUNNING', undefined, admin)).body
        .total;
      assert.equal(queued + running, 3);
      const value = (name: string) => {
        const line = text.split('\n').find((l) => l.startsWith(`${name} `));
        assert.ok(line, `no ${name} in /metrics`);
        return Number(line.slice(name.length + 1));
      };
      assert.equal(value('drover_jobs{state="QUEUED"}'), queued);
      assert.equal(value('drover_jobs{state="RUNNING"}'), running);
      assert.equal(value('drover_jobs{state="COMPLETED"}'), 0);
      assert.equal(value('drover_dispatches_total'), 1);
      assert.equal(value('drover_tasks{state="COMPLETED"}'), 1);
      assert.equal(value('drover_nodes{state="IDLE"}'), 1);
      assert.equal(value('drover_dispatch_latency_seconds_count'), 1);

      const doc = await t.request('GET', '/docs/json');
      expectStatus(doc, 200);
      assert.match(doc.body.openapi, /^3\./);
      assert.equal(doc.body.info.title, 'Drover native API');
      assert.ok(doc.body.paths['/api/v1/jobs'], 'the document lists /api/v1/jobs');
      assert.ok(doc.body.paths['/api/v1/jobs'].post);
      assert.ok(doc.body.paths['/api/v1/jobs'].get);
      assert.ok(doc.body.paths['/api/v1/jobs/{id}']);
      assert.ok(doc.body.paths['/api/v1/nodes/{id}/acquire']);
      assert.deepEqual(doc.body.components.securitySchemes.bearer, {
        type: 'http',
        scheme: 'bearer',
      });
      assert.ok(!('/metrics' in doc.body.paths), '/metrics is hidden from the document');
      // The dialects' routes answer as their systems do and are left out of the native document.
      const paths = Object.keys(doc.body.paths);
      assert.ok(paths.length > 30, `${paths.length} native paths`);
      assert.deepEqual(
        paths.filter((p) => !p.startsWith('/api/v1/')),
        [],
        'the document lists native paths only',
      );
      assert.deepEqual(
        paths.filter((p) => p.endsWith('/')),
        [],
        'no trailing-slash duplicates',
      );
    });

    it('takes the token scheme case-insensitively and any token of the user', async () => {
      const second = await createToken(t.engine.ctx, 'alice', 'laptop');
      const res = await t.request('GET', '/api/v1/jobs?limit=1', undefined, {
        authorization: `bearer ${second}`,
      });
      expectStatus(res, 200);
      assert.ok(res.body.total >= 3);
    });
  });

  describe(`native API: auth off (${database.name})`, () => {
    it('acts as the local admin without any token', async () => {
      const t = await startTestServer(database);
      try {
        const res = await t.request('POST', '/api/v1/jobs', { ...JOB, user: 'bob' });
        expectStatus(res, 201);
        assert.equal(res.body.user, 'bob');
        const mine = await t.request('POST', '/api/v1/jobs', JOB);
        assert.equal(mine.body.user, 'local');
        const doc = await t.request('GET', '/docs/json');
        assert.deepEqual(doc.body.security, []);
      } finally {
        await t.close();
      }
    });
  });
}
