/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import { expectError, expectStatus, submit } from './support.js';

/* GET /api/v1/jobs: cursor paging beside limit/offset, and what total means. */

async function list(t: TestServer, query: string): Promise<any> {
  return expectStatus(await t.request('GET', `/api/v1/jobs?${query}`), 200, query).body;
}

for (const database of TEST_DATABASES) {
  describe(`native API: job list cursors and totals (${database.name})`, () => {
    let t: TestServer;
    const ids: number[] = [];
    before(async () => {
      t = await startTestServer(database);
      for (let i = 0; i < 7; i++) {
        ids.push((await submit(t, { name: `page_${i}`, priority: i % 2 ? 10 : 90 })).id);
      }
    });
    after(async () => {
      await t?.close();
    });

    it('follows next from page to page until it is null', async () => {
      const seen: number[] = [];
      let body = await list(t, 'limit=3&sort=-priority');
      for (;;) {
        assert.equal(body.total, 7);
        assert.equal(body.totalExact, true);
        assert.equal(body.offset, 0);
        seen.push(...body.items.map((j: any) => j.id));
        if (body.next === null) break;
        body = await list(t, `limit=3&sort=-priority&cursor=${encodeURIComponent(body.next)}`);
      }
      const byOffset = await list(t, 'limit=100&sort=-priority');
      assert.deepEqual(
        seen,
        byOffset.items.map((j: any) => j.id),
      );
      assert.equal(byOffset.next, null);
      assert.deepEqual(
        [...seen].sort((a, b) => a - b),
        ids,
      );
    });

    it('offset pages carry a next cursor too', async () => {
      const first = await list(t, 'limit=2&offset=2');
      const second = await list(t, `limit=2&cursor=${encodeURIComponent(first.next)}`);
      const all = (await list(t, 'limit=100')).items.map((j: any) => j.id);
      assert.deepEqual(
        second.items.map((j: any) => j.id),
        all.slice(4, 6),
      );
    });

    it('refuses a cursor with an offset, for another sort, or made up', async () => {
      const first = await list(t, 'limit=2');
      const cursor = encodeURIComponent(first.next);
      const bad = async (query: string, field: string) => {
        const res = await t.request('GET', `/api/v1/jobs?${query}`);
        expectError(res, 400, 'VALIDATION');
        assert.equal(res.body.details.field, field, query);
      };
      await bad(`limit=2&offset=2&cursor=${cursor}`, 'offset');
      await bad(`limit=2&sort=name&cursor=${cursor}`, 'cursor');
      await bad('limit=2&cursor=bm9wZQ', 'cursor');
    });

    it('a sort on a time that may be null has no next', async () => {
      const body = await list(t, 'limit=2&sort=started_at');
      assert.equal(body.items.length, 2);
      assert.equal(body.next, null);
    });

    it('the OpenAPI document shows the cursor, next and totalExact', async () => {
      const doc = expectStatus(await t.request('GET', '/docs/json'), 200).body;
      const get = doc.paths['/api/v1/jobs'].get;
      const cursor = get.parameters.find((p: any) => p.name === 'cursor');
      assert.equal(cursor?.in, 'query');
      assert.match(cursor.schema?.description ?? cursor.description, /next/);
      const page = get.responses['200'].content['application/json'].schema;
      assert.ok(page.properties.next, 'next');
      assert.equal(page.properties.totalExact.type, 'boolean');
      assert.match(
        page.properties.total.description,
        /exact up to 10,000 on PostgreSQL and 100,000 on SQLite/,
      );
    });
  });
}
