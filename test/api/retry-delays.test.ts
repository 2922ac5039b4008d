import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import { expectError, expectStatus, submit } from './support.js';

/* A job's retry delay through the native API: given at submit, shown, changed, checked. */

for (const database of TEST_DATABASES) {
  describe(`retry delay API (${database.name})`, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(database);
    });
    after(async () => {
      await t?.close();
    });

    it('is given at submit, shown with the job, changed by PATCH and refused when malformed', async () => {
      const job = await submit(t, {
        retryDelay: { mode: 'EXPONENTIAL', seconds: 10, maxSeconds: 60, jitter: 0.2 },
      });
      assert.deepEqual(job.retryDelay, {
        mode: 'EXPONENTIAL',
        seconds: 10,
        maxSeconds: 60,
        jitter: 0.2,
      });
      const plain = await submit(t, {});
      assert.deepEqual(plain.retryDelay, { mode: 'NONE', seconds: 0, maxSeconds: 0, jitter: 0 });
      const changed = expectStatus(
        await t.request('PATCH', `/api/v1/jobs/${job.id}`, {
          retryDelay: { mode: 'FIXED', seconds: 30 },
        }),
        200,
      ).body;
      assert.deepEqual(changed.retryDelay, {
        mode: 'FIXED',
        seconds: 30,
        maxSeconds: 30,
        jitter: 0,
      });
      for (const retryDelay of [
        { mode: 'LATER' },
        { mode: 'FIXED', seconds: 1e9 },
        { mode: 'EXPONENTIAL', seconds: 10, maxSeconds: 5 },
        { mode: 'FIXED', seconds: 1, colour: 'red' },
      ]) {
        expectError(
          await t.request('POST', '/api/v1/jobs', {
            type: 'command-line',
            parameters: { executable: 'echo' },
            retryDelay,
          }),
          400,
          'VALIDATION',
        );
      }
    });
  });
}
