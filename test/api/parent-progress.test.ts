/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createJobType } from '../../src/engine/job-types/job-types.js';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import { acquire, expectStatus, getJob, register, report, submit, tasksOf } from './support.js';

/*
 * Issue 18: a parent job (a multi-step OpenJD job, a composite type's job) has no tasks of
 * its own; its representation shows its steps' tasks added up (tasks, progress) and its
 * steps by state (steps), in the one job's view and in a list's page alike.
 */

const TEMPLATE = `specificationVersion: jobtemplate-2023-09
name: Progress
steps:
  - name: Render
    parameterSpace:
      taskParameterDefinitions:
        - name: Frame
          type: INT
          range: '1-3'
    script:
      actions:
        onRun: { command: echo, args: ['{{Task.Param.Frame}}'] }
  - name: Encode
    dependencies:
      - dependsOn: Render
    script:
      actions:
        onRun: { command: echo, args: [encode] }
`;

const counts = (over: Record<string, number>) => ({
  total: 0,
  pending: 0,
  queued: 0,
  running: 0,
  suspended: 0,
  completed: 0,
  failed: 0,
  canceled: 0,
  ...over,
});

for (const database of TEST_DATABASES) {
  describe(`native API: a parent job's progress is its steps' (${database.name})`, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(database);
    });
    after(async () => {
      await t?.close();
    });

    const stepsOf = async (parentId: number): Promise<Map<string, any>> => {
      const res = expectStatus(await t.request('GET', `/api/v1/jobs?parent=${parentId}`), 200);
      return new Map((res.body.items as any[]).map((j) => [j.childName, j]));
    };
    const listed = async (id: number, query = ''): Promise<any> => {
      const res = expectStatus(await t.request('GET', `/api/v1/jobs?limit=200${query}`), 200);
      return (res.body.items as any[]).find((j) => j.id === id);
    };

    it('adds up the steps of an OpenJD job as they run, in the job and in the list', async () => {
      const parent = expectStatus(
        await t.request('POST', '/api/v1/jobs', { template: TEMPLATE, pool: 'pp' }),
        201,
      ).body;
      // At submission: 3 render tasks queued, the encode task pending on the render step.
      assert.deepEqual(parent.tasks, counts({ total: 4, queued: 3, pending: 1 }));
      assert.deepEqual(parent.steps, counts({ total: 2, queued: 1, pending: 1 }));
      assert.equal(parent.progress, 0);

      const node = await register(t, 'progress-node', { pools: ['pp'] });
      const first = await acquire(t, node.id);
      expectStatus(await report(t, first.execution.id, 'start', { nodeId: node.id }), 200);
      const finish = { nodeId: node.id, success: true, exitCode: 0 };
      expectStatus(await report(t, first.execution.id, 'finish', finish), 200);
      const second = await acquire(t, node.id);
      expectStatus(await report(t, second.execution.id, 'start', { nodeId: node.id }), 200);

      const running = await getJob(t, parent.id);
      assert.equal(running.state, 'RUNNING');
      assert.deepEqual(
        running.tasks,
        counts({ total: 4, completed: 1, running: 1, queued: 1, pending: 1 }),
      );
      assert.deepEqual(running.steps, counts({ total: 2, running: 1, pending: 1 }));
      assert.equal(running.progress, 25);
      // The list's page says the same, and a job with tasks of its own has no steps.
      const single = await submit(t, { name: 'plain', frames: '1-2' });
      const row = await listed(parent.id);
      assert.deepEqual(row.tasks, running.tasks);
      assert.deepEqual(row.steps, running.steps);
      assert.equal(row.progress, 25);
      const plain = await listed(single.id);
      assert.equal(plain.tasks.total, 2);
      assert.equal(plain.steps, undefined);
      // A step is a job with tasks: no steps of its own.
      const { Render: render } = Object.fromEntries(await stepsOf(parent.id));
      assert.equal(render.steps, undefined);
      assert.equal(render.tasks.total, 3);

      // One render task fails for good: the step and the parent say so.
      expectStatus(await t.request('POST', `/api/v1/jobs/${render.id}/suspend`), 200);
      const [failing] = (await tasksOf(t, render.id)).filter((x) => x.state !== 'COMPLETED');
      expectStatus(await t.request('POST', `/api/v1/tasks/${failing.id}/fail`), 200);
      const after = await getJob(t, parent.id);
      assert.equal(after.tasks.total, 4);
      assert.equal(after.tasks.completed, 1);
      assert.equal(after.tasks.failed, 1);
      assert.equal(after.steps.total, 2);
      assert.equal(after.steps.pending, 1, 'encode still waits on render');
    });

    it('counts the tasks of a step that is itself a parent (nested composite types)', async () => {
      // Composite types are a dialect's (UFDL's meta templates); made here in the engine.
      const type = (name: string, children: any[]) =>
        createJobType(t.engine.ctx, { name, definition: { children } });
      await type('inner-pair', [
        { name: 'x', type: 'command-line' },
        { name: 'y', type: 'command-line', after: ['x'] },
      ]);
      await type('outer-pipeline', [
        { name: 'a', type: 'command-line' },
        { name: 'b', type: 'inner-pair' },
      ]);
      const echo = { executable: 'echo' };
      const outer = await submit(t, {
        type: 'outer-pipeline',
        parameters: { a: echo, b: { x: echo, y: echo } },
      });
      const steps = await stepsOf(outer.id);
      assert.deepEqual([...steps.keys()].sort(), ['a', 'b']);
      const inner = steps.get('b');
      // The inner parent: its own two steps, one task each.
      assert.deepEqual(inner.steps, counts({ total: 2, queued: 1, pending: 1 }));
      assert.deepEqual(inner.tasks, counts({ total: 2, queued: 1, pending: 1 }));
      // The outer parent: its two steps, and all three tasks under it.
      const full = await getJob(t, outer.id);
      assert.deepEqual(full.steps, counts({ total: 2, queued: 2 }));
      assert.deepEqual(full.tasks, counts({ total: 3, queued: 2, pending: 1 }));
      const row = await listed(outer.id, '&type=outer-pipeline');
      assert.deepEqual(row.tasks, full.tasks);
      assert.deepEqual(row.steps, full.steps);
    });
  });
}
