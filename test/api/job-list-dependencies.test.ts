import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import { expectError, expectStatus, submit } from './support.js';

/*
 * Issue 18: the job list filtered by dependency, as the job page lists what a job waits on
 * and what waits on it: a page of the list like any other, not every job fetched by id.
 */

for (const database of TEST_DATABASES) {
  describe(`GET /jobs?dependsOn= and ?dependencyOf= (${database.name})`, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(database);
    });
    after(async () => t?.close());

    const ids = async (query: string) => {
      const res = expectStatus(await t.request('GET', `/api/v1/jobs?${query}&sort=id`), 200);
      return {
        ids: (res.body.items as Array<{ id: number }>).map((j) => j.id),
        total: res.body.total,
      };
    };

    it('lists the jobs waiting on a job, and the jobs a job waits on', async () => {
      const a = (await submit(t, { name: 'sim' })).id;
      const b = (await submit(t, { name: 'cache' })).id;
      const c = (await submit(t, { name: 'render', dependencies: [a, b] })).id;
      const d = (await submit(t, { name: 'preview', dependencies: [a] })).id;
      await submit(t, { name: 'unrelated' });

      assert.deepEqual(await ids(`dependsOn=${a}`), { ids: [c, d], total: 2 });
      assert.deepEqual(await ids(`dependsOn=${b}`), { ids: [c], total: 1 });
      assert.deepEqual(await ids(`dependencyOf=${c}`), { ids: [a, b], total: 2 });
      assert.deepEqual(await ids(`dependencyOf=${a}`), { ids: [], total: 0 });
      // With the other filters and paging, as any list.
      assert.deepEqual(await ids(`dependsOn=${a}&q=prev`), { ids: [d], total: 1 });
      assert.deepEqual(await ids(`dependencyOf=${c}&limit=1&offset=1`), { ids: [b], total: 2 });
    });

    it('refuses ids that are not job ids', async () => {
      for (const q of ['dependsOn=0', 'dependsOn=abc', 'dependencyOf=-1', 'dependencyOf=1e30']) {
        expectError(await t.request('GET', `/api/v1/jobs?${q}`), 400, undefined, q);
      }
    });
  });
}
