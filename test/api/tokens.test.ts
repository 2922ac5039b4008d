import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildApp } from '../../src/api/app.js';
import { addUser, createToken } from '../../src/engine/accounts/accounts.js';
import { startEngine, type Engine } from '../../src/engine/engine.js';
import { JOB_DEFINITION_FORMATS } from '../../src/formats/index.js';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import { expectError, expectStatus } from './support.js';

/* API tokens: hashed, expiring, last-used, listed and revoked by admins, on every replica. */

const HOUR_MS = 3_600_000;

for (const database of TEST_DATABASES) {
  describe(`API tokens (${database.name})`, () => {
    let t: TestServer;
    let replica: Engine;
    let replicaUrl: string;
    let closeReplica: () => Promise<void>;
    let admin: Record<string, string>;
    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

    before(async () => {
      t = await startTestServer(database, { auth: true });
      await addUser(t.engine.ctx, 'root', 'admin');
      await addUser(t.engine.ctx, 'alice', 'user');
      admin = bearer(await createToken(t.engine.ctx, 'root'));
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

    it('stores only hashes, lists tokens with their last use and expiry, to admins only', async () => {
      const created = await t.request(
        'POST',
        '/api/v1/tokens',
        { user: 'alice', name: 'laptop', expires: '1h' },
        admin,
      );
      expectStatus(created, 201);
      const token = created.body.token as string;
      const stored = await t.engine.ctx.db.selectFrom('api_tokens').select('token_hash').execute();
      assert.ok(stored.every((r) => r.token_hash !== token && !r.token_hash.includes(token)));

      expectStatus(await t.request('GET', '/api/v1/jobs', undefined, bearer(token)), 200);
      const list = expectStatus(
        await t.request('GET', '/api/v1/tokens?user=alice', undefined, admin),
        200,
      );
      assert.equal(list.body.items.length, 1);
      const [info] = list.body.items;
      assert.equal(info.name, 'laptop');
      assert.equal(info.lastUsedAt, new Date(t.clock.read()).toISOString());
      assert.equal(info.expiresAt, new Date(t.clock.read() + HOUR_MS).toISOString());
      assert.equal(JSON.stringify(list.body).includes(token), false);

      // Alice may not see or manage tokens.
      expectError(
        await t.request('GET', '/api/v1/tokens', undefined, bearer(token)),
        403,
        'FORBIDDEN',
      );
      // Bad input is a 400 that says what to write.
      const bad = await t.request(
        'POST',
        '/api/v1/tokens',
        { user: 'alice', expires: 'soon' },
        admin,
      );
      expectError(bad, 400, 'VALIDATION');
      assert.match(bad.body.message, /e\.g\. 30d/);

      // An hour later the token is refused.
      t.clock.advance(HOUR_MS);
      expectError(
        await t.request('GET', '/api/v1/jobs', undefined, bearer(token)),
        401,
        'UNAUTHENTICATED',
      );
    });

    it('a revoked token is refused at once, on every replica', async () => {
      const created = await t.request('POST', '/api/v1/tokens', { user: 'alice' }, admin);
      const token = expectStatus(created, 201).body.token as string;
      const onReplica = () => fetch(`${replicaUrl}/api/v1/jobs`, { headers: bearer(token) });
      assert.equal((await onReplica()).status, 200);
      const list = expectStatus(
        await t.request('GET', '/api/v1/tokens?user=alice', undefined, admin),
        200,
      );
      const id = list.body.items.at(-1).id as number;
      expectStatus(await t.request('DELETE', `/api/v1/tokens/${id}`, undefined, admin), 204);
      assert.equal((await onReplica()).status, 401);
      expectError(
        await t.request('GET', '/api/v1/jobs', undefined, bearer(token)),
        401,
        'UNAUTHENTICATED',
      );
      expectError(
        await t.request('DELETE', `/api/v1/tokens/${id}`, undefined, admin),
        404,
        'NOT_FOUND',
      );
    });

    it('an open event stream ends once its token is revoked, on the replica that serves it', async () => {
      const created = await t.request('POST', '/api/v1/tokens', { user: 'alice' }, admin);
      const { token } = expectStatus(created, 201).body as { token: string };
      // A bound, not a timing assertion: a stream that never ends fails here, not by hanging.
      const res = await fetch(`${replicaUrl}/api/v1/events`, {
        headers: bearer(token),
        signal: AbortSignal.timeout(60_000),
      });
      assert.equal(res.status, 200);
      const reader = res.body!.getReader();
      const first = new TextDecoder().decode((await reader.read()).value);
      assert.match(first, /: connected/);
      const list = expectStatus(
        await t.request('GET', '/api/v1/tokens?user=alice', undefined, admin),
        200,
      );
      const id = list.body.items.at(-1).id as number;
      expectStatus(await t.request('DELETE', `/api/v1/tokens/${id}`, undefined, admin), 204);
      let done = false;
      while (!done) done = (await reader.read()).done;
      assert.equal(
        (await fetch(`${replicaUrl}/api/v1/events`, { headers: bearer(token) })).status,
        401,
      );
    });
  });
}
