/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../../helpers/databases.js';
import { acquire, register, report, tasksOf } from '../support.js';
import {
  expectDeadlineError,
  expectSuccess,
  idNumber,
  startDeadlineTestServer,
  submitDeadline,
  type DeadlineTestServer,
} from './support.js';

/* The /api/tasks requests the seed implies (reference §2 Tasks.py, §4). */

for (const database of TEST_DATABASES) {
  describe(`Deadline: tasks (${database.name})`, () => {
    let t: DeadlineTestServer;
    before(async () => {
      t = await startDeadlineTestServer(database);
    });
    after(async () => {
      await t?.close();
    });

    it('GET in its three shapes, with Deadline’s task document', async () => {
      const job = await submitDeadline(t, { Name: 'tasks', Frames: '1-5', ChunkSize: 2 });
      const ids = await t.dl('GET', `/api/tasks?JobID=${job._id}&IdOnly=true`);
      assert.deepEqual(ids.body, [0, 1, 2]);
      const all = await t.dl('GET', `/api/tasks?JobID=${job._id}`);
      assert.deepEqual(Object.keys(all.body), ['ID', 'PreTask', 'PostTask', 'Tasks']);
      assert.equal(all.body.ID, job._id);
      assert.equal(all.body.PreTask, null);
      assert.deepEqual(
        all.body.Tasks.map((x: any) => x.Frames),
        ['1-2', '3-4', '5-5'],
      );
      const one = await t.dl('GET', `/api/tasks?JobID=${job._id}&TaskID=1`);
      assert.equal(one.body._id, `${job._id}_1`);
      assert.equal(one.body.JobID, job._id);
      assert.equal(one.body.TaskID, 1);
      assert.equal(one.body.Stat, 2);
      assert.equal(one.body.Prog, '0 %');
      assert.equal(one.body.Slave, '');
      assert.equal(one.body.Start, '0001-01-01T00:00:00Z');
      assert.equal(one.body.Comp, '0001-01-01T00:00:00Z');

      // A task being rendered shows its worker and Stat 4.
      const node = await register(t, 'render-01');
      const order = await acquire(t, node.id);
      await report(t, order.execution.id, 'start', { nodeId: node.id });
      const running = await t.dl('GET', `/api/tasks?JobID=${job._id}&TaskID=0`);
      assert.equal(running.body.Stat, 4);
      assert.equal(running.body.Slave, 'render-01');
      assert.notEqual(running.body.StartRen, '0001-01-01T00:00:00Z');
      assert.equal(running.body.RndStat, 'Rendering');
      // What the command says it does (openjd_status) is Deadline's render status.
      const said = await report(t, order.execution.id, 'progress', {
        nodeId: node.id,
        progress: 40,
        status: 'loading assets',
      });
      assert.equal(said.status, 200, JSON.stringify(said.body));
      const status = await t.dl('GET', `/api/tasks?JobID=${job._id}&TaskID=0`);
      assert.equal(status.body.RndStat, 'loading assets');
      assert.equal(status.body.Prog, '40 %');
      const shown = (await t.dl('GET', `/api/jobs?JobID=${job._id}`)).body[0];
      assert.equal(shown.RenderingChunks, 1);
      assert.equal(shown.Stat, 1);
    });

    it('PUT commands with TaskList as an int, a list, or absent for all tasks', async () => {
      const job = await submitDeadline(t, { Name: 'task commands', Frames: '1-4' });
      const states = async () => (await tasksOf(t, idNumber(job._id))).map((x: any) => x.state);
      expectSuccess(
        await t.dl(
          'PUT',
          '/api/tasks',
          `{"Command":"suspend", "JobID":"${job._id}", "TaskList":1}`,
        ),
      );
      assert.deepEqual(await states(), ['QUEUED', 'SUSPENDED', 'QUEUED', 'QUEUED']);
      expectSuccess(
        await t.dl('PUT', '/api/tasks', { Command: 'complete', JobID: job._id, TaskList: [0, 2] }),
      );
      assert.deepEqual(await states(), ['COMPLETED', 'SUSPENDED', 'COMPLETED', 'QUEUED']);
      expectSuccess(
        await t.dl('PUT', '/api/tasks', { Command: 'fail', JobID: job._id, TaskList: [3] }),
      );
      expectSuccess(
        await t.dl('PUT', '/api/tasks', { Command: 'resumefailed', JobID: job._id, TaskList: [3] }),
      );
      assert.deepEqual(await states(), ['COMPLETED', 'SUSPENDED', 'COMPLETED', 'QUEUED']);
      expectSuccess(await t.dl('PUT', '/api/tasks', { Command: 'pend', JobID: job._id }));
      assert.deepEqual(await states(), ['COMPLETED', 'PENDING', 'COMPLETED', 'PENDING']);
      expectSuccess(await t.dl('PUT', '/api/tasks', { Command: 'releasepending', JobID: job._id }));
      expectSuccess(
        await t.dl('PUT', '/api/tasks', { Command: 'requeue', JobID: job._id, TaskList: 0 }),
      );
      expectSuccess(await t.dl('PUT', '/api/tasks', { Command: 'suspend', JobID: job._id }));
      expectSuccess(await t.dl('PUT', '/api/tasks', { Command: 'resume', JobID: job._id }));
      assert.deepEqual(await states(), ['QUEUED', 'QUEUED', 'COMPLETED', 'QUEUED']);
      const shown = (await t.dl('GET', `/api/tasks?JobID=${job._id}`)).body.Tasks;
      assert.deepEqual(
        shown.map((x: any) => x.Stat),
        [2, 2, 5, 2],
      );
    });

    it('errors: missing JobID 400, unknown job 500, bad TaskID 400, POST/DELETE 501', async () => {
      const job = await submitDeadline(t, { Name: 'task errors' });
      expectDeadlineError(await t.dl('GET', '/api/tasks'), 400, /JobID/);
      expectDeadlineError(await t.dl('GET', '/api/tasks?JobID=0000000000000000000fffff'), 500);
      expectDeadlineError(
        await t.dl('GET', `/api/tasks?JobID=${job._id}&TaskID=x`),
        400,
        /task ID/,
      );
      expectDeadlineError(
        await t.dl('GET', `/api/tasks?JobID=${job._id}&TaskID=9`),
        500,
        /no task 9/,
      );
      expectDeadlineError(
        await t.dl('PUT', '/api/tasks', { Command: 'explode', JobID: job._id }),
        500,
      );
      expectDeadlineError(await t.dl('PUT', '/api/tasks', { Command: 'suspend' }), 400, /JobID/);
      expectDeadlineError(
        await t.dl('PUT', '/api/tasks', { Command: 'suspend', JobID: job._id, TaskList: ['a'] }),
        400,
      );
      assert.equal((await t.dl('POST', '/api/tasks', '{}')).status, 501);
      assert.equal((await t.dl('DELETE', '/api/tasks')).status, 501);
    });
  });
}
