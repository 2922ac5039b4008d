/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import {
  api,
  buildOnce,
  drain,
  drover,
  expectRun,
  finishTask,
  startTask,
  submitJob,
} from './support.js';

for (const database of TEST_DATABASES) {
  describe(`drover task (${database.name})`, () => {
    let t: TestServer;
    let nodeId: number;
    before(async () => {
      await buildOnce();
      t = await startTestServer(database);
      nodeId = (await api(t, 'POST', '/nodes', { name: 'task-node' })).id;
    });
    beforeEach(async () => {
      await drain(t);
    });
    after(async () => {
      await t?.close();
    });

    const tasks = async (jobId: number): Promise<any[]> =>
      (await api(t, 'GET', `/jobs/${jobId}/tasks`)).items;
    const stateOf = async (jobId: number) => (await tasks(jobId)).map((x) => x.state);

    it("lists a job's tasks with frames, state, tries, node and duration, filtered by state", async () => {
      const job = await submitJob(t, { frames: '1-12', chunkSize: 2 });
      const order = await startTask(t, nodeId);
      t.clock.advance(45_000); // inside the lease
      await finishTask(t, nodeId, order.execution.id);

      const run = await drover(t, ['task', 'list', String(job.id)]);
      expectRun(run, 0);
      const lines = run.stdout.trimEnd().split('\n');
      assert.match(lines[0]!, /^TASK\s+FRAMES\s+STATE\s+TRIES\s+PROGRESS\s+NODE\s+DURATION$/);
      assert.equal(lines.length, 7, run.stdout);
      assert.match(lines[1]!, /^\s*0\s+1-2\s+COMPLETED\s+0\s+100%\s+task-node\s+45s$/);
      assert.match(lines[6]!, /^\s*5\s+11-12\s+QUEUED\s+0\s+0%\s+-\s+-$/);

      const completed = await drover(t, ['task', 'list', String(job.id), '--state', 'completed']);
      expectRun(completed, 0);
      assert.equal(completed.stdout.trimEnd().split('\n').length, 2, completed.stdout);

      const json = await drover(t, ['task', 'list', String(job.id), '--json', '--state', 'queued']);
      expectRun(json, 0);
      assert.deepEqual(
        JSON.parse(json.stdout).map((x: any) => x.index),
        [1, 2, 3, 4, 5],
      );

      expectRun(
        await drover(t, ['task', 'list', String(job.id), '--state', 'failed']),
        0,
        `job ${job.id} has no failed tasks\n`,
      );
      expectRun(
        await drover(t, ['task', 'list', String(job.id), '--state', 'broken']),
        1,
        '',
        /^drover: "broken" is not a task state; use pending, queued, running/,
      );
      expectRun(
        await drover(t, ['task', 'list', '424242']),
        1,
        '',
        'drover: job 424242 does not exist\n',
      );
    });

    it('acts on a task, a range and a list, and reports what the server refused', async () => {
      const job = await submitJob(t, { frames: '1-6' });
      const id = String(job.id);
      const order = await startTask(t, nodeId);
      await finishTask(t, nodeId, order.execution.id);

      expectRun(
        await drover(t, ['task', 'suspend', id, '1-3']),
        0,
        `job ${id}: 3 tasks suspended (1-3)\n`,
      );
      assert.deepEqual(await stateOf(job.id), [
        'COMPLETED',
        'SUSPENDED',
        'SUSPENDED',
        'SUSPENDED',
        'QUEUED',
        'QUEUED',
      ]);
      expectRun(
        await drover(t, ['task', 'resume', id, '1,3']),
        0,
        `job ${id}: 2 tasks resumed (1,3)\n`,
      );

      const mixed = await drover(t, ['task', 'complete', id, '0-2']);
      expectRun(
        mixed,
        1,
        `job ${id}: 2 of 3 tasks completed (1-2); 1 refused (0)\n`,
        new RegExp(
          `^drover: job ${id} task 0: cannot mark-completed task \\d+: it is COMPLETED\\n$`,
        ),
      );
      assert.deepEqual((await stateOf(job.id)).slice(0, 3), [
        'COMPLETED',
        'COMPLETED',
        'COMPLETED',
      ]);

      expectRun(await drover(t, ['task', 'fail', id, '5']), 0, `job ${id}: 1 task failed (5)\n`);
      assert.equal((await api(t, 'GET', `/jobs/${job.id}`)).state, 'FAILED');
      expectRun(
        await drover(t, ['task', 'requeue', id, '5']),
        0,
        `job ${id}: 1 task requeued (5)\n`,
      );
      const after = await tasks(job.id);
      assert.equal(after[5].state, 'QUEUED');
      assert.equal(after[5].tries, 0);

      const json = await drover(t, ['task', 'suspend', id, '--json', '4,5']);
      expectRun(json, 0);
      assert.deepEqual(
        JSON.parse(json.stdout).map((r: any) => [r.task, r.ok, r.state]),
        [
          [4, true, 'SUSPENDED'],
          [5, true, 'SUSPENDED'],
        ],
      );
    });

    it('refuses a selection it cannot act on before sending anything', async () => {
      const job = await submitJob(t, { frames: '1-6' });
      const id = String(job.id);
      expectRun(
        await drover(t, ['task', 'suspend', id, '0-10000']),
        1,
        '',
        `drover: "0-10000" names more than 10000 tasks; act on at most 10000 at once (or on the whole job: drover suspend|resume|requeue JOB)\n`,
      );
      expectRun(
        await drover(t, ['task', 'suspend', id, '2,0-99999999999']),
        1,
        '',
        /^drover: "2,0-99999999999" names more than 10000 tasks/,
      );
      expectRun(
        await drover(t, ['task', 'suspend', id, '4-2']),
        1,
        '',
        'drover: "4-2" runs backwards; write 2-4\n',
      );
      expectRun(
        await drover(t, ['task', 'suspend', id, 'a-b']),
        1,
        '',
        /^drover: "a-b" is not a task index or range; give 4, 3-7 or 1,4,9-12/,
      );
      expectRun(
        await drover(t, ['task', 'suspend', id, '5-7,9']),
        1,
        '',
        `drover: job ${id} has no tasks 6-7,9; its tasks are 0-5\n`,
      );
      expectRun(
        await drover(t, ['task', 'resume', '424242', '1']),
        1,
        '',
        'drover: job 424242 does not exist\n',
      );
      assert.deepEqual(await stateOf(job.id), Array(6).fill('QUEUED'));
    });

    it('finds tasks across pages of the task list', async () => {
      const job = await submitJob(t, { frames: '1-1500' });
      expectRun(
        await drover(t, ['task', 'suspend', String(job.id), '995-1005,1499']),
        0,
        `job ${job.id}: 12 tasks suspended (995-1005,1499)\n`,
      );
      const suspended = await api(t, 'GET', `/jobs/${job.id}/tasks?state=SUSPENDED`);
      assert.deepEqual(
        suspended.items.map((x: any) => x.index),
        [...Array.from({ length: 11 }, (_, i) => 995 + i), 1499],
      );
      const page = await drover(t, [
        'task',
        'list',
        String(job.id),
        '--limit',
        '3',
        '--offset',
        '996',
      ]);
      expectRun(page, 0, /tasks 997-999 of 1500; see more with --limit or --offset\n$/);
    });

    it("shows a task and prints its latest execution's log, or one chosen", async () => {
      const job = await submitJob(t, { maxTries: 2 });
      const id = String(job.id);
      expectRun(
        await drover(t, ['task', 'logs', id, '0']),
        0,
        '',
        `task 0 of job ${id} has not started yet: it has no log\n`,
      );
      const first = await startTask(t, nodeId);
      await api(t, 'POST', `/executions/${first.execution.id}/logs`, {
        nodeId,
        lines: [
          { stream: 'stdout', text: 'first try' },
          { stream: 'stderr', text: 'it broke' },
        ],
      });
      await api(t, 'POST', `/executions/${first.execution.id}/finish`, {
        nodeId,
        success: false,
        exitCode: 3,
        error: { category: 'ALGORITHM', message: 'exit code 3' },
      });
      const second = await startTask(t, nodeId);
      await api(t, 'POST', `/executions/${second.execution.id}/logs`, {
        nodeId,
        lines: [{ stream: 'stdout', text: 'second try' }],
      });
      // What the command said it was doing (OpenJD's openjd_status), shown with the task.
      await api(t, 'POST', `/executions/${second.execution.id}/progress`, {
        nodeId,
        status: 'writing frames',
      });
      await finishTask(t, nodeId, second.execution.id);

      expectRun(
        await drover(t, ['task', 'logs', id, '0']),
        0,
        `==> task 0 · execution ${second.execution.id} on task-node <==\nsecond try\n`,
      );
      expectRun(
        await drover(t, ['task', 'logs', id, '0', '--execution', String(first.execution.id)]),
        0,
        `==> task 0 · execution ${first.execution.id} on task-node <==\nfirst try\n`,
        'it broke\n',
      );
      const other = await submitJob(t);
      const foreign = await startTask(t, nodeId);
      assert.equal(foreign.execution.jobId ?? other.id, other.id);
      expectRun(
        await drover(t, ['task', 'logs', id, '0', '--execution', String(foreign.execution.id)]),
        1,
        '',
        `drover: execution ${foreign.execution.id} is not one of task 0 of job ${id}; its executions are ${first.execution.id}, ${second.execution.id}\n`,
      );

      const show = await drover(t, ['task', 'show', id, '0']);
      expectRun(show, 0);
      assert.match(show.stdout, new RegExp(`^Task: +0 of job ${id} \\(task id \\d+\\)\\n`));
      assert.match(show.stdout, /\nState: +COMPLETED\n/);
      assert.match(show.stdout, /\nStatus: +writing frames\nNode: +task-node\n/);
      assert.match(show.stdout, /\nExecutions \(2\)\nEXECUTION +TASK +EXE# +NODE +STATE/);
      assert.match(show.stdout, /ALGORITHM|exit code 3/);
      const json = JSON.parse((await drover(t, ['task', 'show', id, '0', '--json'])).stdout);
      assert.equal(json.task.index, 0);
      assert.deepEqual(
        json.executions.map((e: any) => e.id),
        [first.execution.id, second.execution.id],
      );
      expectRun(
        await drover(t, ['task', 'show', id, '3']),
        1,
        '',
        `drover: job ${id} has no task 3; its tasks are 0-0\n`,
      );
    });
  });
}
