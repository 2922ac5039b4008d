/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { JOB_STAT_OF, TASK_STAT_OF } from '../../src/api/deadline/state-mapping.js';
import { TEST_DATABASES } from '../helpers/databases.js';
import { eventually } from '../helpers/eventually.js';
import { startDeadlineTestServer, type DeadlineTestServer } from './deadline/support.js';
import { acquire, expectStatus, getJob, register, report, tasksOf } from './support.js';

/*
 * Issue 15, point 1: a multi-step job submitted natively (an OpenJD render → encode job,
 * frames 1-10, the encode step depending on the render step) read and acted on through each
 * dialect. Deadline shows one job whose tasks are both steps' tasks, numbered on from one
 * step to the next; UFDL shows a meta-job with a child per step; Scale shows each step as a
 * job of a recipe, the multi-step job. Each face's counts and states agree with the native
 * API's steps (src/api/{deadline,ufdl,scale}/README.md, "Multi-step jobs").
 */

const TEMPLATE = `specificationVersion: jobtemplate-2023-09
name: Shot {{Param.Shot}}
parameterDefinitions:
  - name: Shot
    type: STRING
    default: sh010
steps:
  - name: Render
    parameterSpace:
      taskParameterDefinitions:
        - name: Frame
          type: INT
          range: '1-10'
    script:
      actions:
        onRun:
          command: echo
          args: ['render', '{{Task.Param.Frame}}']
  - name: Encode
    dependencies:
      - dependsOn: Render
    script:
      actions:
        onRun:
          command: echo
          args: ['encode']
`;

const hex = (id: number) => id.toString(16).padStart(24, '0');
const CHUNKS: Record<string, string> = {
  pending: 'PendingChunks',
  queued: 'QueuedChunks',
  running: 'RenderingChunks',
  suspended: 'SuspendedChunks',
  completed: 'CompletedChunks',
};

for (const database of TEST_DATABASES) {
  describe(`a multi-step job through each face (${database.name})`, () => {
    let t: DeadlineTestServer;
    before(async () => {
      t = await startDeadlineTestServer(database);
    });
    after(async () => {
      await t?.close();
    });

    async function submitTwoStep(pool: string) {
      const parent = expectStatus(
        await t.request('POST', '/api/v1/jobs', { template: TEMPLATE, pool }),
        201,
      ).body;
      const steps = expectStatus(await t.request('GET', `/api/v1/jobs?parent=${parent.id}`), 200)
        .body.items as any[];
      const byName = new Map(steps.map((s) => [s.childName, s]));
      return { parent, render: byName.get('Render'), encode: byName.get('Encode') };
    }

    const dlJob = async (id: number) => {
      const res = await t.dl('GET', `/api/jobs?JobID=${hex(id)}`);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.length, 1);
      return res.body[0];
    };
    const dlTasks = async (id: number) => {
      const res = await t.dl('GET', `/api/tasks?JobID=${hex(id)}`);
      assert.equal(res.status, 200, res.text);
      return res.body.Tasks as any[];
    };
    const dlCommand = async (body: Record<string, unknown>, path = '/api/jobs') => {
      const res = await t.dl('PUT', path, body);
      assert.equal(res.status, 200, `${JSON.stringify(body)}: ${res.text}`);
      assert.equal(res.text, 'Success');
    };

    /** The Deadline job and its tasks agree with the native job and its steps' tasks. */
    async function deadlineAgrees(parentId: number, stepIds: number[], what: string) {
      const native = await getJob(t, parentId);
      const steps = await Promise.all(stepIds.map((id) => getJob(t, id)));
      const nativeTasks = (await Promise.all(stepIds.map((id) => tasksOf(t, id)))).flat();
      const job = await dlJob(parentId);
      const tasks = await dlTasks(parentId);
      assert.equal(job.Stat, JOB_STAT_OF[native.state as keyof typeof JOB_STAT_OF], what);
      assert.equal(job.Props.Tasks, nativeTasks.length, `${what}: Props.Tasks`);
      assert.equal(tasks.length, nativeTasks.length, `${what}: tasks`);
      for (const [key, chunks] of Object.entries(CHUNKS)) {
        const sum = steps.reduce((n, s) => n + s.tasks[key], 0);
        assert.equal(job[chunks], sum, `${what}: ${chunks}`);
      }
      const failed = steps.reduce((n, s) => n + s.tasks.failed + s.tasks.canceled, 0);
      assert.equal(job.FailedChunks, failed, `${what}: FailedChunks`);
      assert.deepEqual(
        tasks.map((x) => x.Stat),
        nativeTasks.map((x) => TASK_STAT_OF[x.state as keyof typeof TASK_STAT_OF]),
        `${what}: task Stat`,
      );
      return { job, tasks };
    }

    it('Deadline: one job whose tasks are both steps, numbered on', async () => {
      const { parent, render, encode } = await submitTwoStep('dl');
      const { job, tasks } = await deadlineAgrees(parent.id, [render.id, encode.id], 'submitted');
      assert.equal(job._id, hex(parent.id));
      assert.equal(job.Props.Name, 'Shot sh010');
      assert.equal(job.Props.Tasks, 11);
      assert.equal(job.QueuedChunks, 10);
      assert.equal(job.PendingChunks, 1);
      assert.equal(job.Stat, 1, 'Active');
      assert.equal(job.Props.OvrTaskEINames, true);
      assert.equal(job.Props.TaskEx0, 'Step');
      assert.deepEqual(
        tasks.map((x) => x.TaskID),
        [...Array(11).keys()],
      );
      assert.deepEqual(
        tasks.map((x) => x._id),
        [...Array(11).keys()].map((n) => `${hex(parent.id)}_${n}`),
      );
      assert.ok(tasks.every((x) => x.JobID === hex(parent.id)));
      assert.deepEqual(
        tasks.map((x) => x.Props.Ex0),
        [...Array(10).fill('Render'), 'Encode'],
      );
      // The encode task waits on the render step: Pending (8), as a dependent task is.
      assert.equal(tasks[10].Stat, 8);

      // The steps' own jobs are not listed: their tasks are the parent's.
      const listed = (await t.dl('GET', '/api/jobs?IdOnly=true')).body as string[];
      assert.ok(listed.includes(hex(parent.id)));
      assert.ok(!listed.includes(hex(render.id)) && !listed.includes(hex(encode.id)));
      const active = (await t.dl('GET', '/api/jobs?States=Active')).body as any[];
      assert.deepEqual(
        active.filter((j) => [parent.id, render.id, encode.id].includes(parseInt(j._id, 16))),
        [job],
      );

      // The task ids in the three GET shapes.
      assert.deepEqual((await t.dl('GET', `/api/tasks?JobID=${hex(parent.id)}&IdOnly=true`)).body, [
        ...Array(11).keys(),
      ]);
      const one = (await t.dl('GET', `/api/tasks?JobID=${hex(parent.id)}&TaskID=10`)).body;
      assert.deepEqual(one, tasks[10]);
      const missing = await t.dl('GET', `/api/tasks?JobID=${hex(parent.id)}&TaskID=11`);
      assert.equal(missing.status, 500);

      // A render task runs and completes: the job's counts follow.
      const node = await register(t, 'dl-node', { pools: ['dl'] });
      const order = await acquire(t, node.id);
      assert.equal(order.job.id, render.id);
      expectStatus(await report(t, order.execution.id, 'start', { nodeId: node.id }), 200);
      let seen = await deadlineAgrees(parent.id, [render.id, encode.id], 'one running');
      assert.equal(seen.job.RenderingChunks, 1);
      assert.equal(seen.tasks[0].Stat, 4);
      expectStatus(
        await report(t, order.execution.id, 'finish', {
          nodeId: node.id,
          success: true,
          exitCode: 0,
        }),
        200,
      );
      seen = await deadlineAgrees(parent.id, [render.id, encode.id], 'one done');
      assert.equal(seen.job.CompletedChunks, 1);
      assert.equal(seen.job.ComFra, 1);

      // Task commands name the parent's numbers, whatever step they are in.
      await dlCommand(
        { Command: 'suspend', JobID: hex(parent.id), TaskList: [2, 3, 10] },
        '/api/tasks',
      );
      seen = await deadlineAgrees(parent.id, [render.id, encode.id], 'tasks suspended');
      assert.deepEqual(
        seen.tasks.map((x) => x.Stat),
        [5, 2, 3, 3, 2, 2, 2, 2, 2, 2, 3],
      );
      await dlCommand({ Command: 'resume', JobID: hex(parent.id) }, '/api/tasks');
      seen = await deadlineAgrees(parent.id, [render.id, encode.id], 'tasks resumed');
      assert.equal(seen.job.SuspendedChunks, 0);

      // Job commands act on every step.
      await dlCommand({ Command: 'suspend', JobID: hex(parent.id) });
      seen = await deadlineAgrees(parent.id, [render.id, encode.id], 'suspended');
      assert.equal(seen.job.Stat, 2);
      assert.equal(seen.job.SuspendedChunks, 10);
      assert.equal((await getJob(t, encode.id)).state, 'SUSPENDED');
      await dlCommand({ Command: 'resume', JobID: hex(parent.id) });
      seen = await deadlineAgrees(parent.id, [render.id, encode.id], 'resumed');
      assert.equal(seen.job.Stat, 1);
      await dlCommand({ Command: 'requeue', JobID: hex(parent.id) });
      seen = await deadlineAgrees(parent.id, [render.id, encode.id], 'requeued');
      assert.equal(seen.job.CompletedChunks, 0);
      assert.equal(seen.job.QueuedChunks, 10);
      assert.equal(seen.job.PendingChunks, 1);

      // A multi-step job's frames are its steps': the frame range commands are refused.
      const frames = await t.dl('PUT', '/api/jobs', {
        Command: 'setjobframerange',
        JobID: hex(parent.id),
        FrameList: '1-3',
        ChunkSize: 1,
      });
      assert.equal(frames.status, 500);
      assert.match(frames.text, /several steps/);
      // Its tasks are still its steps' (10 render, 1 encode).
      assert.equal((await getJob(t, parent.id)).tasks.total, 11);

      // Delete takes every step with it.
      const deleted = await t.dl('DELETE', `/api/jobs?JobID=${hex(parent.id)}`);
      assert.equal(deleted.text, 'Success');
      for (const id of [parent.id, render.id, encode.id]) {
        assert.equal((await getJob(t, id)).deleted, true, `job ${id} deleted`);
      }
      const gone = (await t.dl('GET', '/api/jobs?Deleted=true&IdOnly=true')).body as string[];
      assert.ok(gone.includes(hex(parent.id)) && !gone.includes(hex(render.id)));
      await dlCommand({ Command: 'undelete', JobID: hex(parent.id) });
      for (const id of [parent.id, render.id, encode.id]) {
        assert.equal((await getJob(t, id)).deleted, false, `job ${id} undeleted`);
      }
      await deadlineAgrees(parent.id, [render.id, encode.id], 'undeleted');
      expectStatus(await t.request('DELETE', `/api/v1/jobs/${parent.id}`), 204);
      const purged = await t.dl('DELETE', `/api/jobs?JobID=${hex(parent.id)}&Purge=true`);
      assert.equal(purged.text, 'Success');
      for (const id of [parent.id, render.id, encode.id]) {
        assert.equal((await t.request('GET', `/api/v1/jobs/${id}`)).status, 404, `${id} purged`);
      }
    });

    it('UFDL: a meta-job with a child per step', async () => {
      const { parent, render, encode } = await submitTwoStep('ufdl');
      const children = expectStatus(
        await t.request('POST', '/v1/jobs/list', {
          expressions: [{ type: 'exact', field: 'parent', value: parent.id }],
        }),
        200,
      ).body as any[];
      assert.deepEqual(children.map((c) => c.pk).sort(), [render.id, encode.id].sort());
      const meta = expectStatus(await t.request('GET', `/v1/jobs/${parent.id}`), 200).body;
      assert.equal(meta.parent, null);
      assert.equal(meta.template.name, 'openjd-job');
      assert.equal(meta.start_time, null, 'CREATED while no step started');

      const node = await register(t, 'ufdl-node', { pools: ['ufdl'] });
      const order = await acquire(t, node.id);
      expectStatus(await report(t, order.execution.id, 'start', { nodeId: node.id }), 200);
      const started = expectStatus(await t.request('GET', `/v1/jobs/${parent.id}`), 200).body;
      assert.notEqual(started.start_time, null, 'STARTED once a step started');
      assert.equal(started.end_time, null);
      const step = expectStatus(await t.request('GET', `/v1/jobs/${render.id}`), 200).body;
      assert.notEqual(step.start_time, null);
      const waiting = expectStatus(await t.request('GET', `/v1/jobs/${encode.id}`), 200).body;
      assert.equal(waiting.start_time, null);

      // Cancelling the meta-job cancels every step.
      expectStatus(await t.request('DELETE', `/v1/jobs/${parent.id}/cancel`), 200);
      const canceled = expectStatus(await t.request('GET', `/v1/jobs/${parent.id}`), 200).body;
      assert.equal(canceled.is_cancelled, true);
      assert.equal((await getJob(t, render.id)).state, 'CANCELED');
      assert.equal((await getJob(t, encode.id)).state, 'CANCELED');
    });

    it('Scale: each step a job of the recipe that the multi-step job is', async () => {
      const { parent, render, encode } = await submitTwoStep('scale');
      const page = expectStatus(
        await t.request('GET', `/v6/jobs/?recipe_id=${parent.id}`),
        200,
      ).body;
      assert.equal(page.count, 2);
      const byId = new Map<number, any>(page.results.map((j: any) => [j.id, j]));
      for (const step of [render, encode]) {
        const job = byId.get(step.id);
        assert.equal(job.recipe.id, parent.id);
        assert.equal(job.recipe.recipe_type.name, 'openjd-job');
        assert.equal(job.recipe.recipe_type.id, parent.type.id);
        assert.equal(typeof job.recipe.recipe_type.revision_num, 'number');
      }
      assert.equal(byId.get(render.id).status, 'QUEUED');
      assert.equal(byId.get(encode.id).status, 'PENDING');
      const detail = expectStatus(await t.request('GET', `/v6/jobs/${encode.id}/`), 200).body;
      assert.deepEqual(detail.recipe, byId.get(encode.id).recipe);
      const top = expectStatus(await t.request('GET', `/v6/jobs/${parent.id}/`), 200).body;
      assert.equal(top.recipe, null);
      assert.equal(top.status, 'QUEUED');
      assert.equal(top.num_exes, 0);

      // A render execution: the step's executions and num_exes agree.
      const node = await register(t, 'scale-node', { pools: ['scale'] });
      const order = await acquire(t, node.id);
      expectStatus(await report(t, order.execution.id, 'start', { nodeId: node.id }), 200);
      const running = expectStatus(await t.request('GET', `/v6/jobs/${render.id}/`), 200).body;
      assert.equal(running.status, 'RUNNING');
      const exes = expectStatus(
        await t.request('GET', `/v6/jobs/${render.id}/executions/`),
        200,
      ).body;
      assert.equal(exes.count, 1);
      assert.equal(
        expectStatus(await t.request('GET', `/v6/jobs/${parent.id}/`), 200).body.status,
        'RUNNING',
      );
      const byStatus = expectStatus(
        await t.request('GET', `/v6/jobs/?status=RUNNING&job_id=${parent.id}`),
        200,
      ).body;
      assert.equal(byStatus.count, 1);

      // A bulk cancel of the recipe cancels its jobs, and the multi-step job follows.
      expectStatus(await t.request('POST', '/v6/jobs/cancel/', { recipe_ids: [parent.id] }), 202);
      await eventually(async () => {
        assert.equal((await getJob(t, render.id)).state, 'CANCELED');
        assert.equal((await getJob(t, encode.id)).state, 'CANCELED');
        assert.equal((await getJob(t, parent.id)).state, 'CANCELED');
      });
      const canceled = expectStatus(
        await t.request('GET', `/v6/jobs/?recipe_id=${parent.id}&status=CANCELED`),
        200,
      ).body;
      assert.equal(canceled.count, 2);
    });
  });
}
