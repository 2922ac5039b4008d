/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import { expectError, expectStatus, register, submit } from './support.js';

/*
 * Issue 18, "lists that say when they are cut": each native list page carries `next`, the
 * link to the page after it (null on the last), and the native API answers a query parameter
 * it does not know with 400 naming it, where a misspelt filter used to list everything. The
 * dialects keep their systems' behaviour.
 */

for (const database of TEST_DATABASES) {
  describe(`native API: list pages and unknown query parameters (${database.name})`, () => {
    let t: TestServer;
    let jobId: number;
    before(async () => {
      t = await startTestServer(database);
      for (let i = 0; i < 23; i++) await register(t, `walk-node-${i}`);
      jobId = (await submit(t, { frames: '1-37', chunkSize: 1 })).id;
    });
    after(async () => {
      await t?.close();
    });

    /** Follows `next` from `first` to the end; every item's id, in order. */
    async function walk(first: string): Promise<{ ids: number[]; pages: number; total: number }> {
      const ids: number[] = [];
      let pages = 0;
      let total = -1;
      for (let link: string | null = first; link !== null;) {
        const page: any = expectStatus(await t.request('GET', link), 200, link).body;
        if (total === -1) total = page.total;
        assert.equal(page.total, total, 'the total stays the same along the walk');
        ids.push(...page.items.map((item: any) => item.id));
        link = page.next;
        pages++;
        assert.ok(pages <= 100, 'next links end');
      }
      return { ids, pages, total };
    }

    for (const [name, first, expected] of [
      ['nodes', '/api/v1/nodes?limit=5', 23],
      ['tasks of a job', '', 37],
      ['executions', '/api/v1/executions?limit=5', 0],
      ['job types', '/api/v1/job-types?limit=2', -1],
    ] as const) {
      it(`next links walk ${name} to the end without duplicates`, async () => {
        const start = first || `/api/v1/jobs/${jobId}/tasks?limit=5`;
        const { ids, pages, total } = await walk(start);
        if (expected >= 0) assert.equal(total, expected);
        assert.equal(ids.length, total, 'every item once');
        assert.equal(new Set(ids).size, ids.length, 'no duplicates');
        const limit = Number(new URL(start, t.url).searchParams.get('limit'));
        assert.equal(pages, Math.max(1, Math.ceil(total / limit)));
      });
    }

    it('next keeps the filters and ends with null on the last page', async () => {
      const page = expectStatus(
        await t.request('GET', `/api/v1/jobs/${jobId}/tasks?state=QUEUED&limit=30`),
        200,
      ).body;
      assert.equal(page.items.length, 30);
      assert.equal(page.next, `/api/v1/jobs/${jobId}/tasks?state=QUEUED&limit=30&offset=30`);
      const last = expectStatus(await t.request('GET', page.next), 200).body;
      assert.equal(last.items.length, 7);
      assert.equal(last.next, null);
      const all = expectStatus(await t.request('GET', `/api/v1/jobs/${jobId}/tasks`), 200).body;
      assert.equal(all.next, null, 'a list that fits its page has no next');
    });

    it('the OpenAPI document describes next on every offset-paged list', async () => {
      const doc = expectStatus(await t.request('GET', '/docs/json'), 200).body;
      for (const path of [
        '/api/v1/nodes',
        '/api/v1/jobs/{id}/tasks',
        '/api/v1/executions',
        '/api/v1/job-types',
        '/api/v1/jobs',
      ]) {
        const schema = doc.paths[path].get.responses['200'].content['application/json'].schema;
        assert.ok(schema.properties.next, path);
        assert.ok(schema.required.includes('next'), path);
      }
    });

    it('an unknown query parameter is a 400 that names it and what the route takes', async () => {
      const misspelt = await t.request('GET', `/api/v1/jobs/${jobId}/tasks?sate=FAILED`);
      expectError(misspelt, 400, 'VALIDATION');
      assert.match(misspelt.body.message, /"sate"/);
      assert.match(misspelt.body.message, /limit, offset, state/);
      assert.equal(misspelt.body.details.field, 'sate');

      const jobs = await t.request('GET', '/api/v1/jobs?states=FAILED&pool=x');
      expectError(jobs, 400, 'VALIDATION');
      assert.match(jobs.body.message, /"states"/);

      const none = await t.request('GET', `/api/v1/jobs/${jobId}?verbose=1`);
      expectError(none, 400, 'VALIDATION');
      assert.match(none.body.message, /"verbose".*takes no query parameters/);

      const post = await t.request('POST', `/api/v1/jobs/${jobId}/suspend?force=true`);
      expectError(post, 400, 'VALIDATION');
      assert.match(post.body.message, /"force"/);
      assert.equal((await t.request('GET', `/api/v1/jobs/${jobId}`)).body.state, 'QUEUED');

      // The parameters a route documents still pass.
      expectStatus(await t.request('GET', `/api/v1/jobs/${jobId}/tasks?state=QUEUED&limit=1`), 200);
    });

    it('the dialects keep their behaviour with parameters they do not know', async () => {
      const scale = await t.request('GET', '/v6/jobs/?sate=FAILED');
      assert.equal(scale.status, 200, JSON.stringify(scale.body));
      const ufdl = await t.request('GET', '/v1/jobs/?sate=FAILED');
      assert.notEqual(ufdl.status, 400, JSON.stringify(ufdl.body));
    });
  });
}
