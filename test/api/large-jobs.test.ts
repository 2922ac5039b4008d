import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MAX_FRAMES_PER_JOB, MAX_TASKS_PER_JOB } from '../../src/engine/jobs/job-submission.js';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import { expectError, expectStatus } from './support.js';

/*
 * Issue 12, point 2: a frame list is counted before it is expanded, one over the limits is
 * refused with a 400 that names the limit (at once, whatever it would expand to), and a
 * 100,000-task job is accepted while the server goes on answering other requests.
 */

const VALID = { type: 'command-line', parameters: { executable: 'echo' } };

for (const database of TEST_DATABASES) {
  describe(`native API: large frame lists (${database.name})`, { timeout: 300_000 }, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(database);
    });
    after(async () => {
      await t?.close();
    });

    const jobCount = async () =>
      expectStatus(await t.request('GET', '/api/v1/jobs?deleted=include'), 200).body.total;

    async function refused(body: Record<string, unknown>, pattern: RegExp) {
      const before = await jobCount();
      const res = await t.request('POST', '/api/v1/jobs', { ...VALID, ...body });
      expectError(res, 400, 'VALIDATION', JSON.stringify(body));
      assert.match(res.body.message, pattern);
      assert.equal(await jobCount(), before);
    }

    it('refuses 20 million frames in huge chunks, naming the frame limit', async () => {
      await refused(
        { frames: '1-20000000', chunkSize: 1_000_000 },
        new RegExp(`limit of ${MAX_FRAMES_PER_JOB} frames`),
      );
      // A chunk size past its own bound is refused by the schema, naming that bound.
      await refused(
        { frames: '1-20000000', chunkSize: 100_000_000 },
        /chunkSize must be <= 1000000/,
      );
    });

    it('refuses a million one-frame tasks, naming the task limit', async () => {
      await refused(
        { frames: '1-1000000', chunkSize: 1 },
        new RegExp(`limit of ${MAX_TASKS_PER_JOB} tasks per job; raise the chunk size`),
      );
      await refused(
        { frames: `1-${MAX_TASKS_PER_JOB + 1}` },
        new RegExp(`${MAX_TASKS_PER_JOB + 1} tasks, over the limit of ${MAX_TASKS_PER_JOB}`),
      );
    });

    it('counts overlapping lists after de-duplication', async () => {
      const res = await t.request('POST', '/api/v1/jobs', {
        ...VALID,
        frames: `1-${MAX_TASKS_PER_JOB},1-10`,
      });
      expectStatus(res, 201);
      assert.equal(res.body.tasks.total ?? res.body.taskCount, MAX_TASKS_PER_JOB);
    });

    it('accepts a 100,000-task job while health checks go on being answered', async () => {
      let submitted = false;
      const submit = t
        .request('POST', '/api/v1/jobs', { ...VALID, frames: `1-${MAX_TASKS_PER_JOB}` })
        .finally(() => (submitted = true));
      let answeredDuring = 0;
      while (!submitted) {
        const health = await t.request('GET', '/api/v1/health');
        assert.equal(health.status, 200);
        if (!submitted) answeredDuring++;
      }
      const res = expectStatus(await submit, 201);
      assert.ok(
        answeredDuring >= 2,
        `only ${answeredDuring} health checks were answered while the job was built`,
      );
      const job = expectStatus(await t.request('GET', `/api/v1/jobs/${res.body.id}`), 200).body;
      assert.equal(job.tasks.total ?? job.taskCount, MAX_TASKS_PER_JOB);
      const tasks = expectStatus(
        await t.request('GET', `/api/v1/jobs/${res.body.id}/tasks?offset=99999&limit=1`),
        200,
      ).body;
      assert.equal(tasks.items[0].frames, '100000-100000');
    });
  });
}
