/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import { expectError, expectStatus, register, submit } from './support.js';

/*
 * Issue 18: `GET /jobs/:id/tasks` answered 50 tasks while docs/api.md said 1000, because the
 * shared page schema's default (50) was filled in before the handler's own fallback ran. The
 * default each list route follows is the one its OpenAPI document states.
 */

for (const database of TEST_DATABASES) {
  describe(`native API: page defaults (${database.name})`, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(database);
    });
    after(async () => {
      await t?.close();
    });

    const limitParameter = (doc: any, path: string) => {
      const parameter = doc.paths[path].get.parameters.find((p: any) => p.name === 'limit');
      // fastify-swagger lifts a query parameter's description out of its schema.
      return {
        ...parameter.schema,
        description: parameter.description ?? parameter.schema.description,
      };
    };

    it("a job's tasks come 1000 to a page unless asked, as documented", async () => {
      const job = await submit(t, { frames: '1-1200', chunkSize: 1 });
      const first = expectStatus(await t.request('GET', `/api/v1/jobs/${job.id}/tasks`), 200);
      assert.equal(first.body.items.length, 1000);
      assert.equal(first.body.limit, 1000);
      assert.equal(first.body.total, 1200);
      assert.equal(first.body.items[999].index, 999);
      const rest = expectStatus(
        await t.request('GET', `/api/v1/jobs/${job.id}/tasks?offset=1000`),
        200,
      );
      assert.equal(rest.body.items.length, 200);
      const asked = expectStatus(
        await t.request('GET', `/api/v1/jobs/${job.id}/tasks?limit=7`),
        200,
      );
      assert.equal(asked.body.items.length, 7);
      const over = await t.request('GET', `/api/v1/jobs/${job.id}/tasks?limit=1001`);
      expectError(over, 400, 'VALIDATION');
      assert.match(over.body.message, /1000/);
    });

    it('nodes come 100 to a page unless asked, as documented', async () => {
      for (let i = 0; i < 55; i++) await register(t, `page-node-${i}`);
      const page = expectStatus(await t.request('GET', '/api/v1/nodes'), 200);
      assert.equal(page.body.limit, 100);
      assert.equal(page.body.items.length, 55);
    });

    it('the OpenAPI document states each default and the maximum', async () => {
      const doc = expectStatus(await t.request('GET', '/docs/json'), 200).body;
      const expected: Record<string, number> = {
        '/api/v1/jobs/{id}/tasks': 1000,
        '/api/v1/nodes': 100,
        '/api/v1/job-types': 100,
        '/api/v1/jobs': 50,
        '/api/v1/executions': 50,
      };
      for (const [path, limit] of Object.entries(expected)) {
        const schema = limitParameter(doc, path);
        assert.equal(schema.default, limit, path);
        assert.equal(schema.maximum, 1000, path);
        assert.match(schema.description, new RegExp(`${limit} unless given, at most 1000`), path);
      }
    });
  });
}
