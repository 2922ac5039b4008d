/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { addUser, createToken } from '../../src/engine/accounts/accounts.js';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import { WebhookReceiver } from '../helpers/notification-sinks.js';
import { expectError, expectStatus } from './support.js';

/*
 * /api/v1/notification-rules (issue 17): input checked with messages a person can act on,
 * bounded; a user manages their own rules, an admin global ones and anyone's; a rule made
 * through the API fires for a job ended through the API.
 */

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

for (const database of TEST_DATABASES) {
  describe(`notification rules API (${database.name})`, () => {
    let t: TestServer;
    const receiver = new WebhookReceiver();
    const h: Record<string, Record<string, string>> = {};

    before(async () => {
      await receiver.start();
      t = await startTestServer(database, { auth: true });
      await addUser(t.engine.ctx, 'root', 'admin', 'root-pw');
      for (const name of ['alice', 'bob']) await addUser(t.engine.ctx, name, 'user', `${name}-pw`);
      for (const name of ['root', 'alice', 'bob']) {
        h[name] = bearer(await createToken(t.engine.ctx, name));
      }
    });
    after(async () => {
      await t?.close();
      await receiver.stop();
    });

    const create = (who: string, body: Record<string, unknown>) =>
      t.request('POST', '/api/v1/notification-rules', body, h[who]);
    const hook = (more: Record<string, unknown> = {}) => ({
      events: ['job.completed', 'job.failed'],
      channel: 'webhook',
      target: receiver.url,
      ...more,
    });

    it('refuses bad input with a message that says what to send', async () => {
      const cases: [Record<string, unknown>, RegExp][] = [
        [hook({ events: ['job.exploded'] }), /events/],
        [hook({ events: [] }), /events/],
        [hook({ target: 'ftp://example.com/x' }), /http:\/\/ or https:\/\//],
        [hook({ target: 'not a url' }), /not a URL/],
        [hook({ target: `https://example.com/${'x'.repeat(3000)}` }), /target/],
        [hook({ channel: 'pager' }), /channel/],
        [hook({ secret: 'short' }), /secret/],
        [hook({ surprise: 1 }), /surprise|additional/],
        [{ ...hook(), channel: 'email', target: 'alice@example.com' }, /--smtp-url/],
      ];
      for (const [body, message] of cases) {
        const res = expectError(
          await create('alice', body),
          400,
          'VALIDATION',
          JSON.stringify(body).slice(0, 80),
        );
        assert.match(res.body.message, message);
      }
    });

    it("a user manages their own rules; global ones are an admin's", async () => {
      const mine = expectStatus(await create('alice', hook({ name: 'my renders' })), 201).body;
      assert.equal(mine.owner, 'alice');
      assert.equal(mine.channel, 'webhook');
      assert.match(mine.secret, /^[0-9a-f]{48}$/);
      const refused = expectError(await create('alice', hook({ global: true })), 403, 'FORBIDDEN');
      assert.match(refused.body.message, /only an admin/);
      const global = expectStatus(await create('root', hook({ global: true })), 201).body;
      assert.equal(global.owner, null);

      // The secret is shown once: never in a listing or a read.
      const aliceList = expectStatus(
        await t.request('GET', '/api/v1/notification-rules', undefined, h.alice),
        200,
      );
      assert.deepEqual(
        aliceList.body.items.map((r: any) => r.id),
        [mine.id],
      );
      assert.equal(aliceList.body.items[0].secret, undefined);
      const bobList = expectStatus(
        await t.request('GET', '/api/v1/notification-rules', undefined, h.bob),
        200,
      );
      assert.deepEqual(bobList.body.items, []);
      const rootList = expectStatus(
        await t.request('GET', '/api/v1/notification-rules', undefined, h.root),
        200,
      );
      assert.ok(rootList.body.items.some((r: any) => r.id === mine.id));
      assert.ok(rootList.body.items.some((r: any) => r.id === global.id));

      const path = (id: number) => `/api/v1/notification-rules/${id}`;
      expectError(await t.request('GET', path(mine.id), undefined, h.bob), 403, 'FORBIDDEN');
      expectError(
        await t.request('PATCH', path(mine.id), { enabled: false }, h.bob),
        403,
        'FORBIDDEN',
      );
      expectError(await t.request('DELETE', path(mine.id), undefined, h.bob), 403, 'FORBIDDEN');
      const notGlobal = expectError(
        await t.request('PATCH', path(global.id), { enabled: false }, h.alice),
        403,
      );
      assert.match(notGlobal.body.message, /global/);
      expectError(await t.request('PATCH', path(mine.id), {}, h.alice), 400, 'VALIDATION');
      expectError(await t.request('GET', path(999_999), undefined, h.alice), 404, 'NOT_FOUND');

      const patched = expectStatus(
        await t.request(
          'PATCH',
          path(mine.id),
          { enabled: false, events: ['job.canceled'] },
          h.alice,
        ),
        200,
      ).body;
      assert.equal(patched.enabled, false);
      assert.deepEqual(patched.events, ['job.canceled']);
      expectStatus(await t.request('PATCH', path(global.id), { name: 'farm-wide' }, h.root), 200);
      expectStatus(await t.request('DELETE', path(mine.id), undefined, h.alice), 204);
      expectError(await t.request('GET', path(mine.id), undefined, h.alice), 404, 'NOT_FOUND');
      expectStatus(await t.request('DELETE', path(global.id), undefined, h.root), 204);
    });

    it('bounds the rules of one owner', async () => {
      const made: number[] = [];
      for (let i = 0; i < 50; i++)
        made.push(expectStatus(await create('bob', hook()), 201).body.id);
      const res = expectError(await create('bob', hook()), 409, 'CONFLICT');
      assert.match(res.body.message, /delete one first/);
      for (const id of made) {
        expectStatus(
          await t.request('DELETE', `/api/v1/notification-rules/${id}`, undefined, h.bob),
          204,
        );
      }
    });

    it('a rule made through the API fires, signed, for a job canceled through the API', async () => {
      receiver.received.length = 0;
      const rule = expectStatus(
        await create('alice', hook({ events: ['job.canceled'], secret: 'k'.repeat(32) })),
        201,
      ).body;
      const job = expectStatus(
        await t.request(
          'POST',
          '/api/v1/jobs',
          { type: 'command-line', parameters: { executable: 'echo' }, frames: '1' },
          h.alice,
        ),
        201,
      ).body;
      expectStatus(
        await t.request('POST', `/api/v1/jobs/${job.id}/cancel`, undefined, h.alice),
        200,
      );
      assert.equal((await t.engine.notifications.tick()).delivered, 1);
      assert.equal(receiver.received.length, 1);
      const [got] = receiver.received;
      const expected = `sha256=${createHmac('sha256', 'k'.repeat(32)).update(got!.body).digest('hex')}`;
      assert.equal(got!.headers['x-drover-signature'], expected);
      assert.equal(JSON.parse(got!.body).job.id, job.id);
      const deliveries = expectStatus(
        await t.request(
          'GET',
          `/api/v1/notification-rules/${rule.id}/deliveries`,
          undefined,
          h.alice,
        ),
        200,
      ).body.items;
      assert.deepEqual(
        deliveries.map((d: any) => [d.jobId, d.state, d.attempts]),
        [[job.id, 'DELIVERED', 1]],
      );
      expectError(
        await t.request(
          'GET',
          `/api/v1/notification-rules/${rule.id}/deliveries`,
          undefined,
          h.bob,
        ),
        403,
      );
      expectError(
        await t.request(
          'GET',
          `/api/v1/notification-rules/${rule.id}/deliveries?limit=100000`,
          undefined,
          h.alice,
        ),
        400,
        'VALIDATION',
      );
    });
  });
}
