import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  completeExecution,
  startExecution,
} from '../../src/engine/executions/execution-reports.js';
import { applyJobAction } from '../../src/engine/jobs/job-actions.js';
import { submitJob, type SubmitJobSpec } from '../../src/engine/jobs/job-submission.js';
import { waitingReasons } from '../../src/engine/jobs/waiting-reasons.js';
import { registerNode } from '../../src/engine/nodes/node-registry.js';
import { applyTaskAction } from '../../src/engine/tasks/task-actions.js';
import { findJob } from '../../src/store/jobs.js';
import { listTasks } from '../../src/store/tasks.js';
import { TEST_DATABASES, startTestEngine, type TestEngine } from '../helpers/databases.js';

/*
 * Frame-by-frame dependencies (Deadline's IsFrameDependent): each task of the dependent job
 * waits only for the tasks of its dependencies that cover the same frames, whatever the
 * chunk sizes, and never for the whole job.
 */

const echo = { type: 'command-line', user: 'alice', parameters: { executable: 'echo' } };

function farm(t: TestEngine) {
  const ctx = t.engine.ctx;
  const submit = (spec: Partial<SubmitJobSpec>) => submitJob(ctx, { ...echo, ...spec });
  const job = async (id: number) => {
    const row = await findJob(ctx.db, id);
    assert.ok(row, `job ${id} exists`);
    return row;
  };
  const tasks = async (id: number) =>
    (await listTasks(ctx.db, id, { limit: 1000, offset: 0 })).rows;
  /** Task states by their frames: {"1-10": "QUEUED", …}. */
  const states = async (id: number) =>
    Object.fromEntries((await tasks(id)).map((r) => [`${r.frame_start}-${r.frame_end}`, r.state]));
  /** Completes the tasks of `id` over `frames` through a node, as a worker would. */
  const run = async (nodeId: number, id: number, first: number) => {
    const claim = await t.engine.dispatcher.tryAcquire(nodeId);
    assert.ok(claim, 'a task to take');
    assert.equal(claim.execution.job_id, id);
    const task = (await tasks(id)).find((r) => r.id === claim.execution.task_id);
    assert.equal(task?.frame_start, first);
    await startExecution(ctx, t.engine.settings, claim.execution.id, nodeId);
    await completeExecution(ctx, t.engine.settings, claim.execution.id, nodeId, 0);
  };
  return { ctx, submit, job, tasks, states, run };
}

for (const database of TEST_DATABASES) {
  describe(`frame-by-frame dependencies (${database.name})`, () => {
    it('frame 7 of B starts while frame 90 of A is still queued (chunks of 10 then of 1)', async () => {
      const t = await startTestEngine(database);
      try {
        const f = farm(t);
        const a = await f.submit({ name: 'A', frames: '1-100', chunkSize: 10, priority: 10 });
        const b = await f.submit({
          name: 'B',
          frames: '1-100',
          chunkSize: 1,
          priority: 90,
          dependencies: [a],
          frameDependent: true,
        });
        let rowB = await f.job(b);
        assert.equal(rowB.state, 'QUEUED', 'not held as a whole job');
        assert.equal(rowB.frame_dependent, 1);
        assert.equal(rowB.tasks_pending, 100);
        assert.equal(rowB.tasks_queued, 0);
        assert.deepEqual(
          (await waitingReasons(f.ctx, b)).map((r) => [r.code, r.message]),
          [['FRAMES_PENDING', `100 task(s) wait for the same frames of job ${a} to complete`]],
        );

        const node = (await registerNode(f.ctx, { name: 'n1', slots: 8 })).id;
        await f.run(node, a, 1);
        rowB = await f.job(b);
        assert.equal(rowB.tasks_queued, 10, 'frames 1-10 of B are released');
        assert.equal(rowB.tasks_pending, 90);
        let seventh;
        for (let i = 0; i < 7; i += 1) {
          const claim = await t.engine.dispatcher.tryAcquire(node);
          assert.equal(claim?.execution.job_id, b, 'B is first by priority');
          seventh = claim.execution;
        }
        assert.ok(seventh);
        const task = (await f.tasks(b)).find((r) => r.id === seventh.task_id);
        assert.equal(task?.frame_start, 7);
        await startExecution(f.ctx, t.engine.settings, seventh.id, node);
        assert.equal((await f.states(b))['7-7'], 'RUNNING');
        assert.equal((await f.states(a))['91-100'], 'QUEUED');
        assert.equal((await f.states(b))['11-11'], 'PENDING');
        assert.equal((await f.job(b)).state, 'RUNNING');
      } finally {
        await t.close();
      }
    });

    it('a bigger chunk waits for every smaller chunk it covers; frames A lacks do not wait', async () => {
      const t = await startTestEngine(database);
      try {
        const f = farm(t);
        const a = await f.submit({ name: 'A', frames: '1-40', chunkSize: 10, priority: 90 });
        const c = await f.submit({
          name: 'C',
          frames: '1-20,101-120',
          chunkSize: 20,
          dependencies: [a],
          frameDependent: true,
        });
        assert.deepEqual(await f.states(c), { '1-20': 'PENDING', '101-120': 'QUEUED' });
        const node = (await registerNode(f.ctx, { name: 'n1' })).id;
        await f.run(node, a, 1);
        assert.equal((await f.states(c))['1-20'], 'PENDING', 'frames 11-20 are not done');
        await f.run(node, a, 11);
        assert.equal((await f.states(c))['1-20'], 'QUEUED');

        const d = await f.submit({
          name: 'D',
          frames: '21-40',
          chunkSize: 10,
          dependencies: [a],
          frameDependent: true,
        });
        await applyTaskAction(f.ctx, a, 'all', 'complete');
        assert.deepEqual(await f.states(d), { '21-30': 'QUEUED', '31-40': 'QUEUED' });
        const e = await f.submit({ name: 'E', frames: '1-40', chunkSize: 10, priority: 1 });
        const g = await f.submit({
          name: 'G',
          frames: '1-20',
          chunkSize: 10,
          dependencies: [e],
          frameDependent: true,
        });
        await applyTaskAction(f.ctx, e, 'all', 'complete');
        assert.equal((await f.job(e)).state, 'COMPLETED');
        assert.deepEqual(await f.states(g), { '1-10': 'QUEUED', '11-20': 'QUEUED' });
        // E run again: G's queued tasks stay queued, but a resume of G holds them again.
        await applyJobAction(f.ctx, e, 'requeue');
        assert.deepEqual(await f.states(g), { '1-10': 'QUEUED', '11-20': 'QUEUED' });
        await applyJobAction(f.ctx, g, 'suspend');
        await applyJobAction(f.ctx, g, 'resume');
        assert.deepEqual(await f.states(g), { '1-10': 'PENDING', '11-20': 'PENDING' });
        await applyJobAction(f.ctx, e, 'complete');
        assert.deepEqual(await f.states(g), { '1-10': 'QUEUED', '11-20': 'QUEUED' });
      } finally {
        await t.close();
      }
    });

    it('a failed dependency: CANCEL cancels the job, running tasks and all; WAIT holds; RUN releases', async () => {
      const t = await startTestEngine(database);
      try {
        const f = farm(t);
        const a = await f.submit({ name: 'A', frames: '1-20', chunkSize: 10, priority: 10 });
        const dependent = (name: string, policy: SubmitJobSpec['onDependencyFailure']) =>
          f.submit({
            name,
            frames: '1-20',
            chunkSize: 10,
            dependencies: [a],
            frameDependent: true,
            ...(policy ? { onDependencyFailure: policy } : {}),
          });
        const cancel = await dependent('cancel', undefined);
        const wait = await dependent('wait', 'WAIT');
        const run = await dependent('run', 'RUN');
        const node = (await registerNode(f.ctx, { name: 'n1', slots: 4 })).id;
        await f.run(node, a, 1);
        // The cancel job's frames 1-10 start running on the node.
        await applyJobAction(f.ctx, wait, 'suspend');
        await applyJobAction(f.ctx, run, 'suspend');
        const claim = await t.engine.dispatcher.tryAcquire(node);
        assert.equal(claim?.execution.job_id, cancel);
        await applyJobAction(f.ctx, wait, 'resume');
        await applyJobAction(f.ctx, run, 'resume');
        assert.deepEqual(await f.states(wait), { '1-10': 'QUEUED', '11-20': 'PENDING' });

        await applyJobAction(f.ctx, a, 'fail');
        const canceled = await f.job(cancel);
        assert.equal(canceled.state, 'CANCELED');
        assert.equal(canceled.tasks_canceled, 2);
        assert.deepEqual(await f.states(wait), { '1-10': 'QUEUED', '11-20': 'PENDING' });
        const why = await waitingReasons(f.ctx, wait);
        assert.deepEqual(
          why.slice(0, 2).map((r) => r.code),
          ['FRAMES_PENDING', 'DEPENDENCY_FAILED'],
        );
        assert.match(why[1]!.message, new RegExp(`job ${a} FAILED.*WAIT`));
        assert.deepEqual(await f.states(run), { '1-10': 'QUEUED', '11-20': 'QUEUED' });
      } finally {
        await t.close();
      }
    });

    it("offsets (Deadline's FrameDependencyOffsetStart/End): frame N waits for N-1..N+1", async () => {
      const t = await startTestEngine(database);
      try {
        const f = farm(t);
        const a = await f.submit({ name: 'A', frames: '1-6', chunkSize: 2, priority: 90 });
        const b = await f.submit({
          name: 'B',
          frames: '1-6',
          chunkSize: 1,
          dependencies: [a],
          frameDependent: true,
          frameOffsetStart: -1,
          frameOffsetEnd: 1,
        });
        const rowB = await f.job(b);
        assert.equal(rowB.frame_offset_start, -1);
        assert.equal(rowB.frame_offset_end, 1);
        const node = (await registerNode(f.ctx, { name: 'n1' })).id;
        await f.run(node, a, 1);
        // Frames 1-2 of A are done: B's frame 1 (needs 0-2) runs, frame 2 (needs 1-3) waits.
        let states = await f.states(b);
        assert.equal(states['1-1'], 'QUEUED');
        assert.equal(states['2-2'], 'PENDING', 'frame 3 of A is not done');
        await f.run(node, a, 3);
        states = await f.states(b);
        assert.deepEqual(
          [states['2-2'], states['3-3'], states['4-4'], states['5-5']],
          ['QUEUED', 'QUEUED', 'PENDING', 'PENDING'],
          'frame 4 needs frame 5 of A, frame 5 needs 4-6',
        );
        await f.run(node, a, 5);
        assert.ok(Object.values(await f.states(b)).every((s) => s === 'QUEUED'));

        await assert.rejects(
          f.submit({
            name: 'bad',
            frames: '1-2',
            dependencies: [a],
            frameDependent: true,
            frameOffsetStart: 2,
            frameOffsetEnd: 1,
          }),
          /frameOffsetStart \(2\) must not be above frameOffsetEnd \(1\)/,
        );
        await assert.rejects(
          f.submit({ name: 'bad', frames: '1-2', dependencies: [a], frameOffsetEnd: 1 }),
          /give frameDependent too/,
        );
      } finally {
        await t.close();
      }
    });
  });
}
