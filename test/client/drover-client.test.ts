import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { DroverApiError, DroverClient } from '../../src/client/index.js';
import { addUser, createToken } from '../../src/engine/accounts/accounts.js';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';

/*
 * DroverClient (what `import { DroverClient } from 'drover'` gives) against a real server on
 * a random port: typed calls that the compiler checks against the generated types, and a
 * non-2xx turned into DroverApiError with the server's own message.
 */

describe('package entry', () => {
  it('"drover" resolves to the compiled DroverClient', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    assert.equal(pkg.exports['.'].default, './dist/client/index.js');
    assert.equal(pkg.exports['.'].types, './dist/client/index.d.ts');
    assert.equal(pkg.main, pkg.exports['.'].default);
    // tsconfig.build.json compiles src/ into dist/: the entry is src/client/index.ts.
    const source = pkg.exports['.'].default
      .replace('./dist/', '../../src/')
      .replace(/\.js$/, '.ts');
    assert.match(
      readFileSync(new URL(source, import.meta.url), 'utf8'),
      /export class DroverClient/,
    );
  });
});

for (const database of TEST_DATABASES) {
  describe(`DroverClient (${database.name})`, () => {
    let t: TestServer;
    let drover: DroverClient;
    let token: string;
    before(async () => {
      t = await startTestServer(database, { auth: true });
      await addUser(t.engine.ctx, 'root', 'admin');
      token = await createToken(t.engine.ctx, 'root');
      drover = new DroverClient({ baseUrl: t.url, token });
    });
    after(async () => {
      await t?.close();
    });

    it('submits, reads and lists with typed calls', async () => {
      const job = await drover.post('/api/v1/jobs', {
        body: {
          type: 'command-line',
          name: 'typed',
          frames: '1-6',
          chunkSize: 2,
          parameters: { executable: 'echo' },
        },
      });
      assert.equal(job.name, 'typed');
      assert.equal(job.state, 'QUEUED');
      assert.equal(job.tasks.total, 3);

      const read = await drover.get('/api/v1/jobs/{id}', { params: { path: { id: job.id } } });
      assert.equal(read.id, job.id);

      const tasks = await drover.get('/api/v1/jobs/{id}/tasks', {
        params: { path: { id: job.id }, query: { limit: 2 } },
      });
      assert.deepEqual(
        tasks.items.map((task) => task.index),
        [0, 1],
      );
      assert.equal(tasks.total, 3);
      assert.equal(tasks.next, `/api/v1/jobs/${job.id}/tasks?limit=2&offset=2`);

      const suspended = await drover.post('/api/v1/jobs/{id}/{action}', {
        params: { path: { id: job.id, action: 'suspend' } },
      });
      assert.equal(suspended.state, 'SUSPENDED');

      const gone = await drover.delete('/api/v1/jobs/{id}', { params: { path: { id: job.id } } });
      assert.equal(gone, undefined);
      const deleted = await drover.get('/api/v1/jobs/{id}', { params: { path: { id: job.id } } });
      assert.equal(deleted.deleted, true);
    });

    it("rejects a non-2xx with the server's own message and code", async () => {
      const raw = await t.request('GET', '/api/v1/jobs/424242', undefined, {
        authorization: `Bearer ${token}`,
      });
      assert.equal(raw.status, 404);
      await assert.rejects(
        drover.get('/api/v1/jobs/{id}', { params: { path: { id: 424242 } } }),
        (error: unknown) => {
          assert.ok(error instanceof DroverApiError);
          assert.equal(error.status, 404);
          assert.equal(error.code, 'NOT_FOUND');
          assert.equal(error.message, raw.body.message);
          return true;
        },
      );
      const bad = drover.post('/api/v1/jobs', {
        body: { type: 'command-line', frames: '1-6', chunkSize: 0, parameters: {} },
      });
      await assert.rejects(bad, (error: unknown) => {
        assert.ok(error instanceof DroverApiError);
        assert.equal(error.status, 400);
        assert.equal(error.code, 'VALIDATION');
        assert.match(error.message, /chunkSize/);
        return true;
      });
    });

    it('without a token on a server with auth on: 401 with the server message', async () => {
      const anonymous = new DroverClient({ baseUrl: `${t.url}/` });
      await assert.rejects(anonymous.get('/api/v1/whoami'), (error: unknown) => {
        assert.ok(error instanceof DroverApiError);
        assert.equal(error.status, 401);
        assert.ok(error.message.length > 0);
        return true;
      });
    });
  });
}
