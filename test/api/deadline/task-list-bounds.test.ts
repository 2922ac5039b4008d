import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MAX_TASKS_PER_JOB } from '../../../src/engine/jobs/job-submission.js';
import { TEST_DATABASES } from '../../helpers/databases.js';
import {
  expectDeadlineError,
  expectSuccess,
  startDeadlineTestServer,
  submitDeadline,
  type DeadlineTestServer,
} from './support.js';

/*
 * A TaskList of thousands of task ids reached SQL as one IN list: past SQLite's limit of
 * bound variables it was a 500. It is read in chunks now, any length a job can have, and a
 * list naming more tasks than a job may have is refused with Deadline's plain 400.
 */

const TASKS = 40_000;

for (const database of TEST_DATABASES) {
  describe(`Deadline: a TaskList of thousands (${database.name})`, { timeout: 300_000 }, () => {
    let t: DeadlineTestServer;
    let jobId: string;
    const counts = async () => {
      const res = await t.dl('GET', `/api/jobs?JobID=${jobId}`);
      assert.equal(res.status, 200, res.text);
      const [job] = res.body as { QueuedChunks: number; SuspendedChunks: number }[];
      return { queued: job!.QueuedChunks, suspended: job!.SuspendedChunks };
    };

    before(async () => {
      t = await startDeadlineTestServer(database);
      const job = await submitDeadline(t, { Name: 'wide', Frames: `0-${TASKS - 1}`, ChunkSize: 1 });
      jobId = job._id as string;
      assert.deepEqual(await counts(), { queued: TASKS, suspended: 0 });
    });
    after(async () => {
      await t?.close();
    });

    it(`takes ${TASKS} task ids as a list and as a comma string`, async () => {
      const all = Array.from({ length: TASKS }, (_, i) => i);
      expectSuccess(
        await t.dl('PUT', '/api/tasks', { Command: 'suspend', JobID: jobId, TaskList: all }),
      );
      assert.deepEqual(await counts(), { queued: 0, suspended: TASKS });
      // As a string-built body, the ids in one comma list; every other one, some twice.
      const half = all.filter((i) => i % 2 === 0);
      const text = `{"Command":"resume", "JobID":"${jobId}", "TaskList":"${[...half, ...half.slice(0, 100)].join(',')}"}`;
      expectSuccess(await t.dl('PUT', '/api/tasks', text));
      assert.deepEqual(await counts(), { queued: TASKS / 2, suspended: TASKS / 2 });
    });

    it('GET with thousands of TaskIDs answers them all, in task order', async () => {
      const wanted = Array.from({ length: 2_500 }, (_, i) => 2_500 - i);
      const res = await t.dl('GET', `/api/tasks?JobID=${jobId}&TaskID=${wanted.join(',')}`);
      assert.equal(res.status, 200, res.text.slice(0, 300));
      const tasks = res.body as { TaskID: number }[];
      assert.deepEqual(
        tasks.map((x) => x.TaskID),
        [...wanted].reverse(),
      );
    });

    it('a list with one task the job lacks is Deadline’s 500 naming it, and nothing moves', async () => {
      const before = await counts();
      const list = [...Array.from({ length: TASKS }, (_, i) => i), TASKS + 7];
      const res = await t.dl('PUT', '/api/tasks', {
        Command: 'suspend',
        JobID: jobId,
        TaskList: list,
      });
      expectDeadlineError(res, 500, new RegExp(`has no task ${TASKS + 7}\\.`));
      assert.deepEqual(await counts(), before);
    });

    it('a list naming more tasks than a job may have is a plain 400 naming the limit', async () => {
      const over = Array.from({ length: MAX_TASKS_PER_JOB + 1 }, (_, i) => i);
      const res = await t.dl('PUT', '/api/tasks', {
        Command: 'suspend',
        JobID: jobId,
        TaskList: over,
      });
      expectDeadlineError(res, 400, new RegExp(`more than ${MAX_TASKS_PER_JOB} tasks`));
      // Repeats of fewer ids are not more tasks.
      const repeated = Array.from({ length: MAX_TASKS_PER_JOB + 1 }, (_, i) => i % 3);
      expectSuccess(
        await t.dl('PUT', '/api/tasks', { Command: 'requeue', JobID: jobId, TaskList: repeated }),
      );
      const health = await t.request('GET', '/api/v1/health');
      assert.equal(health.status, 200);
    });
  });
}
