import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { buildApp } from '../../src/api/app.js';
import { addUser, createToken, revokeToken, tokensOf } from '../../src/engine/accounts/accounts.js';
import { startTestEngine, TEST_DATABASES } from '../helpers/databases.js';
import { eventually } from '../helpers/eventually.js';
import { startDeadlineTestServer, type DeadlineTestServer } from './deadline/support.js';
import { expectStatus } from './support.js';
import { createJob, defineTemplate, registerNode, startUfdl, UfdlClient } from './ufdl/support.js';

/* One regression test per hole of issue 11, each reproduced as reported. */

const JOB = { type: 'command-line', parameters: { executable: 'echo' }, frames: '1-3' };
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

for (const database of TEST_DATABASES) {
  describe(`issue 11 holes (${database.name})`, () => {
    it('hole 1: the UFDL node protocol needs the credentials of the node account', async () => {
      const w = await startUfdl(database);
      try {
        const tpl = await defineTemplate(w);
        const node = await registerNode(w);
        const job = await createJob(w, tpl);
        const bare = new UfdlClient(w.t);
        bare.nodeId = node.nodeId;
        const calls: [string, string][] = [
          ['GET', `/v1/jobs/${job.pk}/acquire`],
          ['POST', `/v1/jobs/${job.pk}/start`],
          ['POST', `/v1/jobs/${job.pk}/finish`],
        ];
        for (const [method, path] of calls) {
          const body = method === 'GET' ? undefined : { success: true, send_notification: 'email' };
          const res = await bare.call(method, path, body);
          assert.equal(res.status, 401, `${method} ${path}: ${JSON.stringify(res.body)}`);
        }
        const upload = await bare.addOutput(job.pk, 'model', 'bin', Buffer.from('x'));
        assert.equal(upload.status, 401);
        // The job was not touched; its node's account can still take it.
        const pristine = await w.user.call('GET', `/v1/jobs/${job.pk}`);
        assert.equal(pristine.body.node, null);
        expectStatus(await node.call('GET', `/v1/jobs/${job.pk}/acquire`), 200);
      } finally {
        await w.close();
      }
    });

    it('hole 2: an anonymous UFDL WebSocket is refused; a signed-in one is accepted', async () => {
      const w = await startUfdl(database);
      try {
        const tpl = await defineTemplate(w);
        const job = await createJob(w, tpl);
        const url = `${w.t.url.replace('http', 'ws')}/v1/jobs/${job.pk}`;
        const status = (ws: WebSocket) =>
          new Promise<number>((resolve) => {
            ws.once('open', () => {
              ws.close();
              resolve(101);
            });
            ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
            ws.once('error', () => resolve(-1));
          });
        assert.equal(await status(new WebSocket(url)), 401);
        assert.equal(
          await status(new WebSocket(url, { headers: { authorization: 'Bearer a.b.c' } })),
          401,
        );
        await w.user.login();
        assert.equal(
          await status(
            new WebSocket(url, { headers: { authorization: `Bearer ${w.user.access}` } }),
          ),
          101,
        );
        // Browsers cannot send headers: the token may come as ?token=.
        assert.equal(await status(new WebSocket(`${url}?token=${w.user.access}`)), 101);
        // A socket whose API token is revoked while it is open is closed.
        const ctx = w.t.engine.ctx;
        const token = await createToken(ctx, 'alice');
        const ws = new WebSocket(`${url}?token=${token}`);
        await new Promise((resolve, reject) => {
          ws.once('open', resolve);
          ws.once('error', reject);
        });
        const closed = new Promise<number>((resolve) => ws.once('close', resolve));
        const newest = Math.max(...(await tokensOf(ctx, 'alice')).map((r) => r.id));
        await revokeToken(ctx, newest);
        assert.equal(await closed, 1008);
      } finally {
        await w.close();
      }
    });

    it('hole 3: 300 refused upgrades leave no open sockets, and the server still closes', async () => {
      const t = await startTestEngine(database);
      const app = await buildApp({ engine: t.engine, auth: true });
      try {
        await app.listen({ host: '127.0.0.1', port: 0 });
        const address = app.server.address();
        const port = typeof address === 'object' && address ? address.port : 0;
        const refused = await Promise.all(
          Array.from(
            { length: 300 },
            (_, i) =>
              new Promise<number>((resolve) => {
                const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/jobs/${(i % 3) + 1}`, {
                  headers: i % 2 ? { authorization: 'Bearer drv_bad' } : {},
                });
                ws.once('unexpected-response', (_req, res) => {
                  res.resume();
                  resolve(res.statusCode ?? 0);
                });
                ws.once('error', () => resolve(-1));
              }),
          ),
        );
        assert.deepEqual(new Set(refused), new Set([401]));
        await eventually(async () => {
          const open = await new Promise<number>((resolve, reject) =>
            app.server.getConnections((error, n) => (error ? reject(error) : resolve(n))),
          );
          assert.equal(open, 0);
        });
      } finally {
        // Before the fix this never returned: close() waited for the leaked sockets.
        await app.close();
        await t.close();
      }
    });

    describe('holes 4 and 5 (native, Deadline, Scale)', () => {
      let t: DeadlineTestServer;
      const h: Record<string, Record<string, string>> = {};
      before(async () => {
        t = await startDeadlineTestServer(database, { auth: true });
        const ctx = t.engine.ctx;
        await addUser(ctx, 'root', 'admin', 'root-pw');
        await addUser(ctx, 'alice', 'user', 'alice-pw');
        await addUser(ctx, 'bob', 'user', 'bob-pw');
        await addUser(ctx, 'node-a', 'node', 'a-pw');
        await addUser(ctx, 'node-b', 'node', 'b-pw');
        for (const name of ['root', 'alice', 'bob', 'node-a', 'node-b']) {
          h[name] = bearer(await createToken(ctx, name));
        }
      });
      after(async () => {
        await t?.close();
      });

      it("hole 4: a node's token acts only for its own node, in every route", async () => {
        expectStatus(await t.request('POST', '/api/v1/jobs', JOB, h.alice), 201);
        const a = expectStatus(
          await t.request('POST', '/api/v1/nodes', { name: 'node-a' }, h['node-a']),
          200,
        ).body;
        const b = expectStatus(
          await t.request('POST', '/api/v1/nodes', { name: 'node-b' }, h['node-b']),
          200,
        ).body;
        const order = expectStatus(
          await t.request('POST', `/api/v1/nodes/${b.id}/acquire`, undefined, h['node-b']),
          200,
        ).body;
        const e = order.execution.id;
        const refused: [string, string, unknown][] = [
          ['POST', `/api/v1/executions/${e}/finish`, { nodeId: b.id, success: true }],
          ['POST', `/api/v1/executions/${e}/finish`, { nodeId: a.id, success: true }],
          ['POST', `/api/v1/executions/${e}/start`, { nodeId: b.id }],
          ['POST', `/api/v1/executions/${e}/logs`, { nodeId: b.id, lines: [] }],
          ['POST', `/api/v1/nodes/${b.id}/acquire`, undefined],
          ['POST', `/api/v1/nodes/${b.id}/heartbeat`, { executions: [e] }],
          ['POST', `/api/v1/nodes/${b.id}/claims`, { max: 1 }],
          [
            'POST',
            `/api/v1/nodes/${b.id}/finishes`,
            { finishes: [{ executionId: e, success: true }] },
          ],
          // Registering B's name again would take over its id, work and pools.
          ['POST', '/api/v1/nodes', { name: 'node-b', pools: ['stolen'] }],
        ];
        for (const [method, path, body] of refused) {
          const res = await t.request(method, path, body, h['node-a']);
          assert.equal(res.status, 403, `${method} ${path}: ${JSON.stringify(res.body)}`);
        }
        // A user token is not a node's: it may not take work for one either.
        const asUser = await t.request('POST', `/api/v1/nodes/${a.id}/acquire`, undefined, h.bob);
        assert.equal(asUser.status, 403);
        // B's execution is untouched, and B still finishes it.
        const fin = await t.request(
          'POST',
          `/api/v1/executions/${e}/finish`,
          { nodeId: b.id, success: true },
          h['node-b'],
        );
        expectStatus(fin, 200);
        const node = expectStatus(
          await t.request('GET', `/api/v1/nodes/${b.id}`, undefined, h.root),
          200,
        );
        assert.deepEqual(node.body.pools, []);
      });

      it("hole 5: a user cannot change another user's job, on any face; nodes and job types are admins'", async () => {
        const job = expectStatus(await t.request('POST', '/api/v1/jobs', JOB, h.alice), 201).body;
        const id = job.id as number;
        const native: [string, string, unknown][] = [
          ['POST', `/api/v1/jobs/${id}/suspend`, undefined],
          ['PATCH', `/api/v1/jobs/${id}`, { priority: 90 }],
          ['DELETE', `/api/v1/jobs/${id}`, undefined],
          ['POST', `/api/v1/jobs/${id}/purge`, undefined],
          ['PATCH', `/jobs/${id}/`, { status: 'CANCELED' }],
          ['POST', '/api/v1/nodes/1/disable', undefined],
          [
            'POST',
            '/api/v1/job-types',
            { name: 'evil', definition: { command: ['rm', '-rf', '/'] } },
          ],
        ];
        for (const [method, path, body] of native) {
          const res = await t.request(method, path, body, h.bob);
          assert.equal(res.status, 403, `${method} ${path}: ${JSON.stringify(res.body)}`);
        }
        // Deadline: commands and deletes name the job in the body or the query.
        const dlId = id.toString(16).padStart(24, '0');
        const bob = { auth: basic('bob', 'bob-pw') };
        for (const command of ['suspend', 'requeue', 'archive']) {
          const res = await t.dl('PUT', '/api/jobs', { Command: command, JobID: dlId }, bob);
          assert.equal(res.status, 403, `${command}: ${res.text}`);
        }
        assert.equal((await t.dl('DELETE', `/api/jobs?JobID=${dlId}`, undefined, bob)).status, 403);
        // Scale's bulk cancel skips what the caller may not change (it answers 202 at once).
        const bulk = await t.request('POST', '/v6/jobs/cancel/', {}, h.bob);
        assert.equal(bulk.status, 202);
        // Nothing happened to the job; alice herself may suspend it.
        const after = expectStatus(
          await t.request('GET', `/api/v1/jobs/${id}`, undefined, h.root),
          200,
        );
        assert.equal(after.body.state, job.state);
        assert.equal(after.body.priority, job.priority);
        expectStatus(
          await t.request('POST', `/api/v1/jobs/${id}/suspend`, undefined, h.alice),
          200,
        );
      });

      it('hole 5: a Protected Deadline job cannot be deleted by another user; its owner can', async () => {
        const sub = await t.dl(
          'POST',
          '/api/jobs',
          {
            JobInfo: { Plugin: 'CommandLine', Name: 'guarded', Protected: true, Frames: '1' },
            PluginInfo: { Executable: '/bin/echo' },
            AuxFiles: [],
          },
          { auth: basic('alice', 'alice-pw') },
        );
        assert.equal(sub.status, 200, sub.text);
        const dlId = sub.body._id as string;
        const byBob = await t.dl('DELETE', `/api/jobs?JobID=${dlId}`, undefined, {
          auth: basic('bob', 'bob-pw'),
        });
        assert.equal(byBob.status, 403, byBob.text);
        const byAlice = await t.dl('DELETE', `/api/jobs?JobID=${dlId}`, undefined, {
          auth: basic('alice', 'alice-pw'),
        });
        assert.equal(byAlice.status, 200, byAlice.text);
      });

      it('hole 4: a node account is not a UFDL user (no create-job)', async () => {
        const res = await t.request('POST', '/v1/job-templates/1/create-job', {}, h['node-a']);
        assert.equal(res.status, 403);
        assert.equal(res.body.detail, 'You do not have permission to perform this action.');
      });
    });

    it('hole 6 (and point 4): with auth off, wrong credentials are 401 on every face', async () => {
      const t = await startDeadlineTestServer(database, { auth: false });
      try {
        await addUser(t.engine.ctx, 'alice', 'user', 'alice-pw');
        const token = await createToken(t.engine.ctx, 'alice');
        // No credentials: the local admin.
        expectStatus(await t.request('GET', '/api/v1/jobs'), 200);
        expectStatus(await t.request('POST', '/v1/jobs/list'), 200);
        assert.equal((await t.dl('GET', '/api/jobs')).status, 200);
        // Wrong credentials: 401, whatever the face.
        const wrong = bearer('drv_wrong');
        assert.equal((await t.request('GET', '/api/v1/jobs', undefined, wrong)).status, 401);
        assert.equal((await t.request('GET', '/v6/jobs/', undefined, wrong)).status, 401);
        assert.equal((await t.request('POST', '/v1/jobs/list', undefined, wrong)).status, 401);
        const obtain = await t.request('POST', '/v1/auth/obtain', {
          username: 'alice',
          password: 'typo',
        });
        assert.equal(obtain.status, 401);
        const dl = await t.dl('GET', '/api/jobs', undefined, { auth: basic('alice', 'typo') });
        assert.equal(dl.status, 401);
        assert.equal(dl.headers.get('www-authenticate'), 'Basic realm="Deadline"');
        // The legacy Scale services, the event stream, UFDL's token views and its socket too.
        assert.equal((await t.request('GET', '/jobs/', undefined, wrong)).status, 401);
        const events = await fetch(`${t.url}/api/v1/events`, { headers: wrong });
        await events.body?.cancel();
        assert.equal(events.status, 401);
        for (const view of ['verify', 'refresh']) {
          const res = await t.request('POST', `/v1/auth/${view}`, {
            token: 'a.b.c',
            refresh: 'a.b.c',
          });
          assert.equal(res.status, 401, `${view}: ${JSON.stringify(res.body)}`);
        }
        const socket = await new Promise<number>((resolve) => {
          const ws = new WebSocket(`${t.url.replace('http', 'ws')}/v1/jobs/1`, {
            headers: { authorization: 'Bearer a.b.c' },
          });
          ws.once('open', () => {
            ws.close();
            resolve(101);
          });
          ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
          ws.once('error', () => resolve(-1));
        });
        assert.equal(socket, 401);
        // Right credentials act as that user, not as the admin.
        const res = await t.request('POST', '/api/v1/nodes/1/disable', undefined, bearer(token));
        assert.equal(res.status, 403);
      } finally {
        await t.close();
      }
    });
  });
}
