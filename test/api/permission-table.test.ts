import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/app.js';
import { enforcePermissions, registeredRoutes } from '../../src/api/authorization/enforce.js';
import {
  ACCESS_CALLERS,
  PERMISSIONS,
  routeKey,
  type Rule,
} from '../../src/api/authorization/permission-table.js';
import { buildDeadlineApp } from '../../src/api/deadline/index.js';
import { addUser, createToken } from '../../src/engine/accounts/accounts.js';
import { startTestEngine, TEST_DATABASES, type TestEngine } from '../helpers/databases.js';

/*
 * Walks every route the servers register (main listener and Deadline's), with every kind of
 * caller, and checks each answer against the one permission table (issue 11).
 */

type CallerName = 'anonymous' | 'wrong' | 'node' | 'other-user' | 'admin';
const CALLERS: CallerName[] = ['anonymous', 'wrong', 'node', 'other-user', 'admin'];

const JOB = { type: 'command-line', parameters: { executable: 'echo' }, frames: '1-3' };

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

/** What a caller must get from a route: refused (401, 403) or let through (anything else). */
function expected(rule: Rule, caller: CallerName): 401 | 403 | 'through' {
  if (rule.access === 'login') return 'through';
  if (caller === 'wrong') return 401;
  const kind = caller === 'other-user' ? 'user' : caller;
  if (!ACCESS_CALLERS[rule.access].includes(kind)) return kind === 'anonymous' ? 401 : 403;
  // Another user's job (or its task) is refused; so is speaking for a node bound to another.
  if (caller === 'other-user' && (rule.job || rule.task || rule.execution)) return 403;
  if (caller === 'other-user' && rule.node && rule.access !== 'read-or-worker') return 403;
  return 'through';
}

for (const database of TEST_DATABASES) {
  describe(`permission table: every route, every caller (${database.name})`, () => {
    let t: TestEngine;
    let app: FastifyInstance;
    let deadline: FastifyInstance;
    let url: string;
    let deadlineUrl: string;
    const ids: Record<string, string> = {};
    const bearer: Record<CallerName, Record<string, string>> = {
      anonymous: {},
      wrong: { authorization: 'Bearer drv_this-is-not-a-token' },
      node: {},
      'other-user': {},
      admin: {},
    };
    const basic = (user: string, password: string) => ({
      authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
    });
    const deadlineAuth: Record<CallerName, Record<string, string>> = {
      anonymous: {},
      wrong: basic('root', 'not-the-password'),
      node: basic('worker', 'worker-pw'),
      'other-user': basic('bob', 'bob-pw'),
      admin: basic('root', 'root-pw'),
    };

    before(async () => {
      t = await startTestEngine(database);
      app = await buildApp({ engine: t.engine, auth: true });
      deadline = await buildDeadlineApp({ engine: t.engine, auth: true, archiveDir: '/tmp' });
      url = await listen(app);
      deadlineUrl = await listen(deadline);
      const ctx = t.engine.ctx;
      await addUser(ctx, 'root', 'admin', 'root-pw');
      await addUser(ctx, 'alice', 'user', 'alice-pw');
      await addUser(ctx, 'bob', 'user', 'bob-pw');
      await addUser(ctx, 'worker', 'node', 'worker-pw');
      const token = async (name: string) => ({
        authorization: `Bearer ${await createToken(ctx, name)}`,
      });
      const alice = await token('alice');
      bearer.node = await token('worker');
      bearer['other-user'] = await token('bob');
      bearer.admin = await token('root');

      // Alice's job, a node bound to the worker account, and an execution on that node.
      const post = async (path: string, body: unknown, headers: Record<string, string>) => {
        const res = await fetch(url + path, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        assert.ok(res.ok, `${path}: ${res.status} ${await res.clone().text()}`);
        return (await res.json()) as {
          id: number;
          execution: { id: number };
          task: { id: number };
        };
      };
      const job = await post('/api/v1/jobs', JOB, alice);
      const node = await post('/api/v1/nodes', { name: 'render-01' }, bearer.node);
      const order = await post(`/api/v1/nodes/${node.id}/acquire`, {}, bearer.node);
      ids.job = String(job.id);
      ids.node = String(node.id);
      ids.execution = String(order.execution.id);
      ids.task = String(order.task.id);
    });
    after(async () => {
      await app?.close();
      await deadline?.close();
      await t?.close();
    });

    /** A concrete path for a route: each parameter filled with the thing its rule names. */
    function pathOf(route: string, rule: Rule): string {
      let path = '';
      let depth = 0;
      for (const ch of route) {
        if (ch === '(') depth++;
        else if (ch === ')') depth--;
        else if (depth === 0) path += ch;
      }
      return path
        .replace(/:(\w+)/g, (_m, name: string) => {
          if (rule.job === name) return ids.job!;
          if (rule.task === name) return ids.task!;
          if (rule.execution === name) return ids.execution!;
          if (rule.node === name) return ids.node!;
          if (name === 'log') return 'stdout';
          if (name === 'progress') return '0.5';
          if (['name', 'type', 'version', 'action'].includes(name)) return 'x';
          return ids.job!;
        })
        .replace('*', 'x');
    }

    it('has a table entry for every registered route, and nothing else', () => {
      const keys = new Set<string>();
      for (const r of [...registeredRoutes(app), ...registeredRoutes(deadline)]) {
        if (r.rule) keys.add(routeKey(r.face, r.method, r.url));
      }
      assert.ok(keys.size > 150, `only ${keys.size} routes seen`);
      const unused = Object.keys(PERMISSIONS).filter((k) => !keys.has(k));
      assert.deepEqual(unused, [], 'table entries with no route');
    });

    it('closes /metrics, /docs and the UI to anonymous callers when the setting says so', async () => {
      const closed = await buildApp({ engine: t.engine, auth: true, anonymous: ['metrics'] });
      try {
        const base = await listen(closed);
        const status = async (path: string, headers: Record<string, string> = {}) => {
          const res = await fetch(base + path, { headers });
          await res.body?.cancel();
          return res.status;
        };
        assert.equal(await status('/metrics'), 200);
        assert.equal(await status('/docs/json'), 401);
        assert.equal(await status('/'), 401);
        assert.equal(await status('/docs/json', bearer.admin), 200);
        assert.equal(await status('/docs/json', bearer.node), 403);
      } finally {
        // fetch() keeps its connections alive; close() would wait out their 72 s timeout.
        closed.server.closeAllConnections();
        await closed.close();
      }
      // `none` closes /metrics too; a signed-in user still reads it.
      const none = await buildApp({ engine: t.engine, auth: true, anonymous: [] });
      try {
        const base = await listen(none);
        const metrics = async (headers: Record<string, string> = {}) => {
          const res = await fetch(`${base}/metrics`, { headers });
          await res.body?.cancel();
          return res.status;
        };
        assert.equal(await metrics(), 401);
        assert.equal(await metrics(bearer['other-user']), 200);
        assert.equal(await metrics(bearer.node), 403);
      } finally {
        none.server.closeAllConnections();
        await none.close();
      }
      // The default leaves all three open, as before.
      const open = await fetch(`${url}/docs/json`);
      assert.equal(open.status, 200);
    });

    it('refuses to register a route that is not in the table', async () => {
      const bare = Fastify();
      enforcePermissions(bare, t.engine, 'drover');
      assert.throws(
        () => bare.get('/api/v1/not-in-the-table', async () => 'x'),
        /GET \/api\/v1\/not-in-the-table has no entry in the permission table/,
      );
      await bare.close();
    });

    it('answers each caller as the table says', async () => {
      const routes = [...registeredRoutes(app), ...registeredRoutes(deadline)].filter(
        (r) => r.rule && r.method !== 'HEAD',
      );
      const failures: string[] = [];
      // The admin goes last: its calls may delete the job the others are checked against.
      for (const caller of CALLERS) {
        for (const route of routes) {
          const rule = route.rule!;
          const isDeadline = route.face === 'deadline';
          const path = pathOf(route.url, rule);
          const headers = isDeadline ? deadlineAuth[caller] : bearer[caller];
          const res = await fetch((isDeadline ? deadlineUrl : url) + path, {
            method: route.method,
            headers: {
              ...headers,
              ...(route.method === 'GET' ? {} : { 'content-type': 'application/json' }),
            },
            ...(route.method === 'GET' ? {} : { body: '{}' }),
          });
          // Event streams never end: the status is all this test reads.
          await res.body?.cancel();
          const want = expected(rule, caller);
          // UFDL's views keep finer checks of their own (DRF permission classes, Node-Id).
          const ok =
            want === 'through'
              ? res.status !== 401 && (res.status !== 403 || path.startsWith('/v1/'))
              : res.status === want;
          if (!ok) failures.push(`${caller} ${route.method} ${path}: ${res.status}, want ${want}`);
        }
      }
      assert.deepEqual(failures, []);
    });
  });
}
