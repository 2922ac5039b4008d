/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addUser } from '../../src/engine/accounts/accounts.js';
import { TEST_DATABASES } from '../helpers/databases.js';
import { eventually } from '../helpers/eventually.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import { WebhookReceiver } from '../helpers/notification-sinks.js';
import { acquire, expectError, expectStatus, register, report, runAll, submit } from './support.js';

/*
 * Issue 18, "lists that say when they are cut": every native list route states its default
 * and largest page in OpenAPI, refuses a larger one, and links to the next page. Walking each
 * with a small page by its `next` (a `Link` header for the revisions, whose body is a bare
 * array) gives every row of the whole list once, in the same order.
 */

interface Route {
  /** The OpenAPI path. */
  doc: string;
  /** The first page, with a small limit; `all` is the same list in one page. */
  first: () => string;
  all: () => string;
  key: (item: any) => string | number;
  items?: (body: any) => any[];
  /** `next` is a cursor for the first page's query (`cursor=`), not a link. */
  cursor?: boolean;
  /** The Link header carries `next` (the body is an array). */
  linkHeader?: boolean;
  /** Rows the list must hold at least: every walk must cross pages. */
  atLeast: number;
}

for (const database of TEST_DATABASES) {
  describe(`native API: every list walks by next (${database.name})`, () => {
    let t: TestServer;
    const receiver = new WebhookReceiver();
    let nodeId: number;
    let failedJob: number;
    let outputsJob: number;
    let typeId: number;
    let ruleId: number;
    const routes: Record<string, Route> = {};

    before(async () => {
      await receiver.start();
      t = await startTestServer(database);
      const ctx = t.engine.ctx;
      for (const name of ['ann', 'ben', 'cat', 'dan', 'eve']) {
        await addUser(ctx, name, 'user', `${name}-pw`);
        expectStatus(await t.request('POST', '/api/v1/tokens', { user: name }), 201, 'token');
        expectStatus(await t.request('POST', '/api/v1/grants', { user: name, pool: 'p' }), 201);
      }
      for (let i = 0; i < 5; i++) {
        expectStatus(
          await t.request('POST', '/api/v1/limits', { name: `lic-${i}`, maxCount: 2 }),
          201,
        );
        expectStatus(
          await t.request('PUT', `/api/v1/pools/pool-${i}`, {
            mode: 'balanced',
          }),
          200,
        );
      }
      const rules = [];
      for (let i = 0; i < 5; i++) {
        const made = await t.request('POST', '/api/v1/notification-rules', {
          name: `rule-${i}`,
          events: ['job.canceled'],
          channel: 'webhook',
          target: receiver.url,
          global: true,
        });
        rules.push(expectStatus(made, 201, 'rule').body.id as number);
      }
      ruleId = rules[0]!;

      // Seven jobs canceled: seven notifications of each rule, and audit rows.
      for (let i = 0; i < 7; i++) {
        const job = await submit(t, { frames: '1', name: `canceled-${i}` });
        expectStatus(await t.request('POST', `/api/v1/jobs/${job.id}/cancel`), 200);
      }

      // Five jobs run to the end: five groups of usage by job.
      nodeId = (await register(t, 'walker', { cpus: 4, mem: 8192 })).id;
      for (let i = 0; i < 5; i++) await submit(t, { frames: '1', name: `done-${i}` });
      assert.equal(await runAll(t, nodeId), 5);

      // Five outputs of one execution.
      outputsJob = (await submit(t, { frames: '1', name: 'outputs' })).id;
      const order = await acquire(t, nodeId);
      for (let i = 0; i < 5; i++) {
        const res = await fetch(
          `${t.url}/api/v1/executions/${order.execution.id}/outputs?nodeId=${nodeId}&name=out-${i}.txt`,
          {
            method: 'POST',
            headers: { 'content-type': 'application/octet-stream' },
            body: `output ${i}`,
          },
        );
        assert.equal(res.status, 201, await res.text());
      }

      expectStatus(
        await report(t, order.execution.id, 'finish', { nodeId, success: true, exitCode: 0 }),
        200,
      );

      // A job failed by six nodes: six rows of node failures.
      failedJob = (await submit(t, { frames: '1-6', chunkSize: 1, maxTries: 10 })).id;
      for (let i = 0; i < 6; i++) {
        const { id } = await register(t, `failer-${i}`);
        const order = await acquire(t, id);
        expectStatus(await report(t, order.execution.id, 'start', { nodeId: id }), 200);
        expectStatus(
          await report(t, order.execution.id, 'finish', {
            nodeId: id,
            success: false,
            exitCode: 1,
          }),
          200,
        );
      }

      // A job type with five revisions.
      const type = await t.request('POST', '/api/v1/job-types', {
        name: 'walked',
        title: 'Walked',
        description: 'A job type with revisions',
        category: 'tests',
        definition: { command: ['echo', '{start}'] },
      });
      typeId = expectStatus(type, 201, 'job type').body.id;
      for (let i = 0; i < 4; i++) {
        expectStatus(
          await t.request('POST', `/api/v1/job-types/${typeId}/revisions`, {
            definition: { priority: 40 + i },
          }),
          201,
        );
      }

      // Eight telemetry points, ten seconds apart.
      for (let i = 0; i < 8; i++) {
        const beat = await t.request('POST', `/api/v1/nodes/${nodeId}/heartbeat`, {
          executions: [],
          telemetry: { cpuPercent: 10 + i, memUsedBytes: 1000, memTotalBytes: 4000 },
        });
        expectStatus(beat, 200, 'heartbeat');
        t.clock.advance(10_000);
      }

      await eventually(async () => {
        const all = await t.request('GET', `/api/v1/notification-rules/${ruleId}/deliveries`);
        assert.equal(expectStatus(all, 200).body.items.length, 7);
      });

      const route = (
        name: string,
        doc: string,
        path: () => string,
        limit: number,
        key: (item: any) => string | number,
        atLeast: number,
        extra: Partial<Route> = {},
      ) => {
        const sep = () => (path().includes('?') ? '&' : '?');
        routes[name] = {
          doc,
          first: () => `${path()}${sep()}limit=${limit}`,
          all: () => `${path()}${sep()}limit=1000`,
          key,
          atLeast,
          ...extra,
        };
      };
      const id = (item: any) => item.id;
      route('audit', '/api/v1/audit', () => '/api/v1/audit', 4, id, 30);
      route(
        'deliveries',
        '/api/v1/notification-rules/{id}/deliveries',
        () => `/api/v1/notification-rules/${ruleId}/deliveries`,
        3,
        id,
        7,
      );
      route('grants', '/api/v1/grants', () => '/api/v1/grants', 2, id, 5);
      route('tokens', '/api/v1/tokens', () => '/api/v1/tokens', 2, id, 5);
      route(
        'limits',
        '/api/v1/limits',
        () => '/api/v1/limits',
        2,
        (l) => l.name,
        5,
      );
      route(
        'pools',
        '/api/v1/pools',
        () => '/api/v1/pools',
        2,
        (p) => p.name,
        5,
      );
      route(
        'notification rules',
        '/api/v1/notification-rules',
        () => '/api/v1/notification-rules',
        2,
        id,
        5,
      );
      route(
        'outputs',
        '/api/v1/jobs/{id}/outputs',
        () => `/api/v1/jobs/${outputsJob}/outputs`,
        2,
        id,
        5,
      );
      route(
        'node failures',
        '/api/v1/jobs/{id}/node-failures',
        () => `/api/v1/jobs/${failedJob}/node-failures`,
        4,
        (f) => f.nodeId,
        6,
      );
      route(
        'revisions',
        '/api/v1/job-types/{id}/revisions',
        () => `/api/v1/job-types/${typeId}/revisions`,
        2,
        (r) => r.revision,
        5,
        { linkHeader: true, items: (body) => body },
      );
      route(
        'telemetry',
        '/api/v1/nodes/{id}/telemetry',
        () => `/api/v1/nodes/${nodeId}/telemetry`,
        3,
        (p) => p.at,
        8,
      );
      route(
        'usage',
        '/api/v1/usage',
        () => '/api/v1/usage?group=job',
        2,
        (u) => u.key,
        6,
      );
      route('nodes', '/api/v1/nodes', () => '/api/v1/nodes', 3, id, 7);
      route('executions', '/api/v1/executions', () => '/api/v1/executions', 4, id, 12);
      route('jobs', '/api/v1/jobs', () => '/api/v1/jobs', 4, id, 14, { cursor: true });
      route('tasks', '/api/v1/jobs/{id}/tasks', () => `/api/v1/jobs/${failedJob}/tasks`, 4, id, 6);
      route('job types', '/api/v1/job-types', () => '/api/v1/job-types', 1, id, 3);
    });
    after(async () => {
      await t?.close();
      await receiver.stop();
    });

    /** The next page's link, from the body or the Link header. */
    const nextOf = (route: Route, res: { body: any; headers: Headers }): string | null => {
      if (route.cursor)
        return res.body.next === null ? null : `${route.first()}&cursor=${res.body.next}`;
      if (!route.linkHeader) return res.body.next;
      const link = res.headers.get('link');
      return link === null ? null : /^<([^>]+)>; rel="next"$/.exec(link)![1]!;
    };

    it('walks every list by next, each row once, as one page lists them', async () => {
      for (const [name, route] of Object.entries(routes)) {
        const itemsOf = route.items ?? ((body: any) => body.items);
        const whole = itemsOf(expectStatus(await t.request('GET', route.all()), 200, name).body);
        assert.ok(whole.length >= route.atLeast, `${name}: ${whole.length} rows`);
        const walked: (string | number)[] = [];
        let pages = 0;
        for (let link: string | null = route.first(); link !== null;) {
          const res = expectStatus(await t.request('GET', link), 200, `${name}: ${link}`);
          walked.push(...itemsOf(res.body).map(route.key));
          link = nextOf(route, res);
          assert.ok(++pages <= 50, `${name}: next links end`);
        }
        assert.ok(pages > 1, `${name}: the walk crosses pages`);
        assert.deepEqual(walked, whole.map(route.key), `${name}: every row once, in order`);
      }
    });

    it('states the default and largest page in OpenAPI and refuses a larger one', async () => {
      const doc = expectStatus(await t.request('GET', '/docs/json'), 200).body;
      for (const [name, route] of Object.entries(routes)) {
        const operation = doc.paths[route.doc]?.get;
        assert.ok(operation, `${name}: ${route.doc} is documented`);
        const limit = operation.parameters.find((p: any) => p.name === 'limit');
        assert.ok(limit, `${name}: documents limit`);
        assert.equal(typeof limit.schema.default, 'number', `${name}: a default page`);
        assert.equal(typeof limit.schema.maximum, 'number', `${name}: a largest page`);
        const over = await t.request(
          'GET',
          route.all().replace(/limit=1000$/, `limit=${limit.schema.maximum + 1}`),
        );
        expectError(over, 400, 'VALIDATION', name);
        if (!route.linkHeader) {
          const body = doc.paths[route.doc].get.responses['200'].content['application/json'].schema;
          assert.ok(body.properties.next, `${name}: documents next`);
        }
      }
    });

    it('a newest-first log keeps its pages when rows arrive during the walk', async () => {
      const first = expectStatus(await t.request('GET', '/api/v1/audit?limit=3'), 200).body;
      // A change between the pages: with an offset, the second page would repeat a row.
      const job = await submit(t, { frames: '1' });
      expectStatus(await t.request('POST', `/api/v1/jobs/${job.id}/suspend`), 200);
      const second = expectStatus(await t.request('GET', first.next), 200).body;
      const ids = [...first.items, ...second.items].map((e: any) => e.id);
      assert.equal(new Set(ids).size, 6);
      assert.ok(Math.min(...first.items.map((e: any) => e.id)) > second.items[0].id);
    });
  });
}
