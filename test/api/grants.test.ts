import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildApp } from '../../src/api/app.js';
import { buildDeadlineApp } from '../../src/api/deadline/index.js';
import { addUser, createToken } from '../../src/engine/accounts/accounts.js';
import { startEngine, type Engine } from '../../src/engine/engine.js';
import { JOB_DEFINITION_FORMATS } from '../../src/formats/index.js';
import { TEST_DATABASES } from '../helpers/databases.js';
import { eventually } from '../helpers/eventually.js';
import { startDeadlineTestServer, type DeadlineTestServer } from './deadline/support.js';
import { expectError, expectStatus } from './support.js';

/*
 * Grants (issue 11): a pool's manager changes every job of that pool, a wrangler every job,
 * through every face; an ordinary user still only their own. Grants are stored, managed by
 * admins only, and a revoked grant stops working at once, on another replica too.
 */

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const dlId = (id: number) => id.toString(16).padStart(24, '0');

for (const database of TEST_DATABASES) {
  describe(`grants (${database.name})`, () => {
    let t: DeadlineTestServer;
    let replica: Engine;
    let replicaUrl: string;
    let closeReplica: () => Promise<void>;
    const h: Record<string, Record<string, string>> = {};

    before(async () => {
      t = await startDeadlineTestServer(database, { auth: true });
      const ctx = t.engine.ctx;
      await addUser(ctx, 'root', 'admin', 'root-pw');
      for (const name of ['alice', 'bob', 'carol', 'dave']) {
        await addUser(ctx, name, 'user', `${name}-pw`);
      }
      await addUser(ctx, 'render-01', 'node', 'node-pw');
      for (const name of ['root', 'alice', 'bob', 'carol', 'dave', 'render-01']) {
        h[name] = bearer(await createToken(ctx, name));
      }
      // A second replica over the same database, as behind a load balancer.
      replica = await startEngine({
        url: t.engine.database.url,
        ...(t.engine.database.schema ? { schema: t.engine.database.schema } : {}),
        clock: t.clock.read,
        formats: JOB_DEFINITION_FORMATS,
      });
      const app = await buildApp({ engine: replica, auth: true });
      await app.listen({ host: '127.0.0.1', port: 0 });
      const address = app.server.address();
      replicaUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
      closeReplica = async () => {
        await app.close();
        await replica.close();
      };
    });
    after(async () => {
      await closeReplica?.();
      await t?.close();
    });

    /** One of alice's jobs in `pool`. */
    async function aliceJob(pool: string): Promise<number> {
      const res = await t.request(
        'POST',
        '/api/v1/jobs',
        { type: 'command-line', parameters: { executable: 'echo' }, frames: '1-2', pool },
        h.alice,
      );
      return expectStatus(res, 201, 'submit').body.id as number;
    }

    async function stateOf(id: number): Promise<string> {
      const res = await t.request('GET', `/api/v1/jobs/${id}`, undefined, h.root);
      return expectStatus(res, 200).body.state as string;
    }

    /** Suspends through native and Deadline, resumes, cancels through Scale: each status. */
    async function actOn(user: string, id: number): Promise<number[]> {
      const statuses: number[] = [];
      statuses.push(
        (await t.request('POST', `/api/v1/jobs/${id}/suspend`, undefined, h[user])).status,
      );
      statuses.push(
        (await t.request('POST', `/api/v1/jobs/${id}/resume`, undefined, h[user])).status,
      );
      const auth = basic(user, `${user}-pw`);
      for (const command of ['suspend', 'resume']) {
        const res = await t.dl('PUT', '/api/jobs', { Command: command, JobID: dlId(id) }, { auth });
        statuses.push(res.status);
      }
      statuses.push(
        (await t.request('PATCH', `/jobs/${id}/`, { status: 'CANCELED' }, h[user])).status,
      );
      return statuses;
    }

    it('grants are managed by admins only, and checked', async () => {
      for (const name of ['alice', 'render-01']) {
        expectError(await t.request('GET', '/api/v1/grants', undefined, h[name]), 403, 'FORBIDDEN');
        expectError(
          await t.request('POST', '/api/v1/grants', { user: name, wrangler: true }, h[name]),
          403,
          'FORBIDDEN',
        );
      }
      expectError(
        await t.request('POST', '/api/v1/grants', { user: 'bob', pool: 'comp' }),
        401,
        'UNAUTHENTICATED',
      );
      expectError(
        await t.request('POST', '/api/v1/grants', { user: 'nobody', pool: 'comp' }, h.root),
        404,
        'NOT_FOUND',
      );
      const toNode = await t.request(
        'POST',
        '/api/v1/grants',
        { user: 'render-01', wrangler: true },
        h.root,
      );
      expectError(toNode, 400, 'VALIDATION');
      assert.match(toNode.body.message, /node account/);
      expectError(await t.request('POST', '/api/v1/grants', { user: 'bob' }, h.root), 400);
      expectError(await t.request('DELETE', '/api/v1/grants/999999', undefined, h.root), 404);
    });

    it("a pool's manager changes the pool's jobs on every face, not others; a wrangler any; others none", async () => {
      const made = await t.request('POST', '/api/v1/grants', { user: 'bob', pool: 'comp' }, h.root);
      const bobGrant = expectStatus(made, 201).body;
      assert.deepEqual(
        { user: bobGrant.user, kind: bobGrant.kind, pool: bobGrant.pool, by: bobGrant.createdBy },
        { user: 'bob', kind: 'pool', pool: 'comp', by: 'root' },
      );
      // Granting it again changes nothing.
      const again = await t.request(
        'POST',
        '/api/v1/grants',
        { user: 'bob', pool: 'comp' },
        h.root,
      );
      assert.equal(expectStatus(again, 201).body.id, bobGrant.id);
      expectStatus(
        await t.request('POST', '/api/v1/grants', { user: 'carol', wrangler: true }, h.root),
        201,
      );
      const list = expectStatus(await t.request('GET', '/api/v1/grants', undefined, h.root), 200);
      assert.deepEqual(
        list.body.items.map((g: { user: string; kind: string; pool: string | null }) => [
          g.user,
          g.kind,
          g.pool,
        ]),
        [
          ['bob', 'pool', 'comp'],
          ['carol', 'wrangler', null],
        ],
      );

      const inComp = await aliceJob('comp');
      const inFx = await aliceJob('fx');
      assert.deepEqual(await actOn('bob', inComp), [200, 200, 200, 200, 200]);
      assert.equal(await stateOf(inComp), 'CANCELED');
      assert.deepEqual(await actOn('bob', inFx), [403, 403, 403, 403, 403]);
      assert.equal(await stateOf(inFx), 'QUEUED');
      assert.deepEqual(await actOn('dave', inFx), [403, 403, 403, 403, 403]);
      assert.equal(await stateOf(inFx), 'QUEUED');
      assert.deepEqual(await actOn('carol', inFx), [200, 200, 200, 200, 200]);
      assert.equal(await stateOf(inFx), 'CANCELED');

      // Scale's bulk commands act on the jobs the caller's grants reach and skip the others.
      const a = await aliceJob('comp');
      const b = await aliceJob('fx');
      const bulk = await t.request('POST', '/v6/jobs/cancel/', { job_ids: [a, b] }, h.bob);
      assert.equal(bulk.status, 202);
      await eventually(async () => assert.equal(await stateOf(a), 'CANCELED'));
      assert.equal(await stateOf(b), 'QUEUED');
      // A manager's refusal says who else may help.
      const refused = await t.request('POST', `/api/v1/jobs/${b}/suspend`, undefined, h.bob);
      expectError(refused, 403, 'FORBIDDEN');
      assert.match(refused.body.message, /ask alice, a manager of pool fx or an admin/);
    });

    it('a revoked grant stops working at once, on another replica too', async () => {
      const job = await aliceJob('lighting');
      const made = await t.request(
        'POST',
        '/api/v1/grants',
        { user: 'bob', pool: 'lighting' },
        h.root,
      );
      const id = expectStatus(made, 201).body.id as number;
      const onReplica = (action: string) =>
        fetch(`${replicaUrl}/api/v1/jobs/${job}/${action}`, { method: 'POST', headers: h.bob });
      assert.equal((await onReplica('suspend')).status, 200);
      const auth = basic('bob', 'bob-pw');
      const dl = await t.dl('PUT', '/api/jobs', { Command: 'resume', JobID: dlId(job) }, { auth });
      assert.equal(dl.status, 200, dl.text);

      expectStatus(await t.request('DELETE', `/api/v1/grants/${id}`, undefined, h.root), 204);
      assert.equal((await onReplica('suspend')).status, 403);
      const after = await t.dl(
        'PUT',
        '/api/jobs',
        { Command: 'suspend', JobID: dlId(job) },
        { auth },
      );
      assert.equal(after.status, 403, after.text);
      assert.equal(await stateOf(job), 'QUEUED');
    });
    it('a Protected Deadline job is deleted or archived only by its user or an admin, grants or not', async () => {
      const sub = await t.dl(
        'POST',
        '/api/jobs',
        {
          JobInfo: {
            Plugin: 'CommandLine',
            Name: 'guarded',
            Protected: true,
            Frames: '1',
            Pool: 'comp',
          },
          PluginInfo: { Executable: '/bin/echo' },
          AuxFiles: [],
        },
        { auth: basic('alice', 'alice-pw') },
      );
      assert.equal(sub.status, 200, sub.text);
      const id = sub.body._id as string;
      const job = expectStatus(
        await t.request('GET', `/api/v1/jobs/${parseInt(id, 16)}`, undefined, h.root),
        200,
      ).body;
      assert.equal(job.pool, 'comp');
      for (const user of ['bob', 'carol']) {
        const auth = basic(user, `${user}-pw`);
        // The grant lets them change it...
        const suspend = await t.dl('PUT', '/api/jobs', { Command: 'suspend', JobID: id }, { auth });
        assert.equal(suspend.status, 200, suspend.text);
        // ...but not remove it.
        const del = await t.dl('DELETE', `/api/jobs?JobID=${id}`, undefined, { auth });
        assert.equal(del.status, 403, del.text);
        assert.match(del.text, /is protected: only its owner \(alice\) or an admin may delete it/);
        const archive = await t.dl('PUT', '/api/jobs', { Command: 'archive', JobID: id }, { auth });
        assert.equal(archive.status, 403, archive.text);
      }
      const byAlice = await t.dl('DELETE', `/api/jobs?JobID=${id}`, undefined, {
        auth: basic('alice', 'alice-pw'),
      });
      assert.equal(byAlice.status, 200, byAlice.text);
    });
  });

  it(`grants survive a restart (${database.name})`, async () => {
    const { options, cleanup } = await database.fresh();
    const start = async () => {
      const engine = await startEngine({ ...options, formats: JOB_DEFINITION_FORMATS });
      const app = await buildApp({ engine, auth: true });
      const deadline = await buildDeadlineApp({ engine, auth: true, archiveDir: '/tmp' });
      await app.listen({ host: '127.0.0.1', port: 0 });
      await deadline.listen({ host: '127.0.0.1', port: 0 });
      const port = (s: typeof app) => {
        const address = s.server.address();
        return typeof address === 'object' && address ? address.port : 0;
      };
      return {
        engine,
        url: `http://127.0.0.1:${port(app)}`,
        deadlineUrl: `http://127.0.0.1:${port(deadline)}`,
        async close() {
          await app.close();
          await deadline.close();
          await engine.close();
        },
      };
    };
    let server = await start();
    try {
      const ctx = server.engine.ctx;
      await addUser(ctx, 'root', 'admin');
      await addUser(ctx, 'alice', 'user');
      await addUser(ctx, 'bob', 'user', 'bob-pw');
      const root = bearer(await createToken(ctx, 'root'));
      const alice = bearer(await createToken(ctx, 'alice'));
      const bob = bearer(await createToken(ctx, 'bob'));
      const post = (path: string, body: unknown, headers: Record<string, string>) =>
        fetch(server.url + path, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      const submitted = await post(
        '/api/v1/jobs',
        { type: 'command-line', parameters: { executable: 'echo' }, pool: 'comp' },
        alice,
      );
      assert.equal(submitted.status, 201);
      const job = ((await submitted.json()) as { id: number }).id;
      assert.equal(
        (await post('/api/v1/grants', { user: 'bob', wrangler: true }, root)).status,
        201,
      );

      await server.close();
      server = await start();
      assert.equal((await post(`/api/v1/jobs/${job}/suspend`, {}, bob)).status, 200);
      const dl = await fetch(`${server.deadlineUrl}/api/jobs`, {
        method: 'PUT',
        headers: { authorization: basic('bob', 'bob-pw'), 'content-type': 'application/json' },
        body: JSON.stringify({ Command: 'resume', JobID: dlId(job) }),
      });
      assert.equal(dl.status, 200, await dl.text());
    } finally {
      await server.close();
      await cleanup();
    }
  });
}
