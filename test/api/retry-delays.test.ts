import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import { expectError, expectStatus, getJob, submit } from './support.js';

/*
 * A job's retry delay and its own retry rules through the native API: given at submit,
 * shown, changed, checked.
 */

for (const database of TEST_DATABASES) {
  describe(`retry delay and rules API (${database.name})`, () => {
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

    it("takes a job's own retry rules at submit, shows and changes them, and refuses bad ones with the reason", async () => {
      const rules = [
        { exitCodes: [4], retry: true, node: 'SAME', sameNodeTries: 3 },
        { categories: ['SYSTEM'], retry: true, node: 'OTHER', maxTries: 5 },
        { exitCodes: [3], retry: false },
      ];
      const job = await submit(t, { retryRules: rules });
      assert.deepEqual(job.retryRules, rules);
      assert.deepEqual((await getJob(t, job.id)).retryRules, rules);
      assert.equal((await submit(t, {})).retryRules, null, "none of its own: its type's");
      const patch = async (retryRules: unknown) =>
        expectStatus(await t.request('PATCH', `/api/v1/jobs/${job.id}`, { retryRules }), 200).body;
      assert.deepEqual((await patch([])).retryRules, []);
      assert.equal((await patch(null)).retryRules, null);
      for (const [retryRules, reason] of [
        [
          [{ retry: true, node: 'OTHER', sameNodeTries: 2 }],
          /sameNodeTries is only for a rule with node SAME/,
        ],
        [[{ retry: false, node: 'SAME' }], /node is only for a rule that retries/],
        [[{ retry: false, maxTries: 2 }], /maxTries is only for a rule that retries/],
        [[{ retry: true, node: 'NEAR' }], /node/],
        [[{ retry: true, sameNodeTries: 1, node: 'SAME' }], /sameNodeTries/],
        [[{ retry: true, when: 'later' }], /when|additional/],
        [Array.from({ length: 33 }, () => ({ retry: true })), /32/],
      ] as const) {
        const res = expectError(
          await t.request('POST', '/api/v1/jobs', {
            type: 'command-line',
            parameters: { executable: 'echo' },
            retryRules,
          }),
          400,
          'VALIDATION',
          JSON.stringify(retryRules),
        );
        assert.match(res.body.message, reason);
      }
    });
  });
}
