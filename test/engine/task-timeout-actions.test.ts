import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DroverError } from '../../src/domain/errors.js';
import {
  completeExecution,
  failReportedExecution,
  startExecution,
} from '../../src/engine/executions/execution-reports.js';
import { updateJobSettings } from '../../src/engine/jobs/job-actions.js';
import { submitJob, type SubmitJobSpec } from '../../src/engine/jobs/job-submission.js';
import { nodeHeartbeat, registerNode } from '../../src/engine/nodes/node-registry.js';
import { findExecution } from '../../src/store/executions.js';
import { findJob } from '../../src/store/jobs.js';
import type { ExecutionRow } from '../../src/store/schema.js';
import { listTasks } from '../../src/store/tasks.js';
import { TEST_DATABASES, startTestEngine, type TestEngine } from '../helpers/databases.js';

/*
 * The job's task timeout action as the server's reaper applies it (Deadline OnTaskTimeout):
 * FAIL fails the try, COMPLETE completes the task, NOTIFY flags the execution and lets it run.
 * The clock is moved by hand; the reaper runs one tick at a time.
 */

async function withEngine(
  database: (typeof TEST_DATABASES)[number],
  fn: (t: TestEngine, h: ReturnType<typeof helpers>) => Promise<void>,
): Promise<void> {
  const t = await startTestEngine(database);
  try {
    await fn(t, helpers(t));
  } finally {
    await t.close();
  }
}

function helpers(t: TestEngine) {
  const { ctx, settings } = t.engine;
  return {
    submit: (spec: Partial<SubmitJobSpec>) =>
      submitJob(ctx, {
        type: 'command-line',
        user: 'alice',
        parameters: { executable: 'sleep', arguments: ['60'] },
        taskTimeout: 10,
        ...spec,
      }),
    /** A node that takes the job's task and starts it. */
    async running(): Promise<ExecutionRow> {
      const node = await registerNode(ctx, { name: `n${Math.random().toString(36).slice(2)}` });
      const acquired = await t.engine.dispatcher.tryAcquire(node.id);
      assert.ok(acquired, 'the node gets the task');
      await startExecution(ctx, settings, acquired.execution.id, node.id);
      return acquired.execution;
    },
    async execution(id: number): Promise<ExecutionRow> {
      const e = await findExecution(ctx.db, id);
      assert.ok(e);
      return e;
    },
    async job(id: number) {
      const job = await findJob(ctx.db, id);
      assert.ok(job);
      return job;
    },
    async task(jobId: number) {
      const [task] = (await listTasks(ctx.db, jobId, { limit: 10, offset: 0 })).rows;
      assert.ok(task);
      return task;
    },
  };
}

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof DroverError, `a DroverError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return true;
  });
}

for (const database of TEST_DATABASES) {
  describe(`task timeout actions in the reaper (${database.name})`, () => {
    it('the action is stored: FAIL by default, as given otherwise; bad values are refused', () =>
      withEngine(database, async (t, h) => {
        assert.equal((await h.job(await h.submit({}))).task_timeout_action, 'FAIL');
        const id = await h.submit({ taskTimeoutAction: 'NOTIFY' });
        assert.equal((await h.job(id)).task_timeout_action, 'NOTIFY');
        await updateJobSettings(t.engine.ctx, id, { taskTimeoutAction: 'COMPLETE' });
        assert.equal((await h.job(id)).task_timeout_action, 'COMPLETE');
        await rejectsWith(
          h.submit({ taskTimeoutAction: 'LATER' as unknown as 'FAIL' }),
          'VALIDATION',
        );
        await rejectsWith(
          updateJobSettings(t.engine.ctx, id, {
            taskTimeoutAction: 'later' as unknown as 'FAIL',
          }),
          'VALIDATION',
        );
      }));

    it('FAIL: the execution fails with "timeout", timed out, and the task is retried', () =>
      withEngine(database, async (t, h) => {
        const job = await h.submit({ taskTimeoutAction: 'FAIL', maxTries: 2 });
        const e = await h.running();
        t.clock.advance(10_000);
        assert.equal((await t.engine.reaper.tick()).timedOut, 0, 'exactly at the limit');
        t.clock.advance(1);
        assert.equal((await t.engine.reaper.tick()).timedOut, 1);
        const ex = await h.execution(e.id);
        assert.equal(ex.state, 'FAILED');
        assert.equal(ex.timed_out, 1);
        assert.equal(ex.error_name, 'timeout');
        const task = await h.task(job);
        assert.equal(task.state, 'QUEUED');
        assert.equal(task.tries, 1);
      }));

    it('COMPLETE: the execution and its task complete, timed out; the node is told to stop', () =>
      withEngine(database, async (t, h) => {
        const job = await h.submit({ taskTimeoutAction: 'COMPLETE' });
        const e = await h.running();
        t.clock.advance(10_001);
        assert.equal((await t.engine.reaper.tick()).timedOut, 1);
        const ex = await h.execution(e.id);
        assert.equal(ex.state, 'COMPLETED');
        assert.equal(ex.timed_out, 1);
        assert.equal(ex.error_name, null);
        assert.equal(ex.exit_code, null);
        const task = await h.task(job);
        assert.equal(task.state, 'COMPLETED');
        assert.equal(task.tries, 0);
        assert.equal((await h.job(job)).state, 'COMPLETED');
        assert.equal((await t.engine.reaper.tick()).timedOut, 0, 'done once');
        // The worker learns at its heartbeat; a late finish changes nothing.
        const beat = await nodeHeartbeat(t.engine.ctx, t.engine.settings, e.node_id, [e.id]);
        assert.deepEqual(beat.stop, [e.id]);
        await rejectsWith(
          completeExecution(t.engine.ctx, t.engine.settings, e.id, e.node_id, null, {
            timedOut: true,
          }),
          'STALE_LEASE',
        );
      }));

    it('COMPLETE reported by the worker: success with timedOut records the flag', () =>
      withEngine(database, async (t, h) => {
        const job = await h.submit({ taskTimeoutAction: 'COMPLETE' });
        const e = await h.running();
        t.clock.advance(5_000);
        await completeExecution(t.engine.ctx, t.engine.settings, e.id, e.node_id, null, {
          timedOut: true,
        });
        const ex = await h.execution(e.id);
        assert.equal(ex.state, 'COMPLETED');
        assert.equal(ex.timed_out, 1);
        assert.equal(ex.exit_code, null);
        assert.equal((await h.task(job)).state, 'COMPLETED');
      }));

    it('NOTIFY: the execution is flagged once and keeps running to its natural end', () =>
      withEngine(database, async (t, h) => {
        const job = await h.submit({ taskTimeoutAction: 'NOTIFY' });
        const e = await h.running();
        t.clock.advance(10_001);
        assert.equal((await t.engine.reaper.tick()).timedOut, 1);
        let ex = await h.execution(e.id);
        assert.equal(ex.state, 'RUNNING');
        assert.equal(ex.timed_out, 1);
        assert.equal((await h.task(job)).state, 'RUNNING');

        // Later ticks leave it alone; its heartbeats keep it alive.
        t.clock.advance(30_000);
        const beat = await nodeHeartbeat(t.engine.ctx, t.engine.settings, e.node_id, [e.id]);
        assert.deepEqual(beat.stop, []);
        assert.equal((await t.engine.reaper.tick()).timedOut, 0);
        assert.equal((await h.execution(e.id)).state, 'RUNNING');

        await completeExecution(t.engine.ctx, t.engine.settings, e.id, e.node_id, 0);
        ex = await h.execution(e.id);
        assert.equal(ex.state, 'COMPLETED');
        assert.equal(ex.timed_out, 1, 'the flag stays');
        assert.equal(ex.exit_code, 0);
        assert.equal((await h.task(job)).state, 'COMPLETED');
        assert.equal((await h.job(job)).state, 'COMPLETED');
      }));

    it('NOTIFY: a command that then fails fails as itself, still flagged timed out', () =>
      withEngine(database, async (t, h) => {
        const job = await h.submit({ taskTimeoutAction: 'NOTIFY', maxTries: 1 });
        const e = await h.running();
        t.clock.advance(10_001);
        assert.equal((await t.engine.reaper.tick()).timedOut, 1);
        await failReportedExecution(t.engine.ctx, e.id, e.node_id, {
          message: 'exited with code 2',
          exitCode: 2,
        });
        const ex = await h.execution(e.id);
        assert.equal(ex.state, 'FAILED');
        assert.equal(ex.timed_out, 1);
        assert.equal(ex.error_name, 'algorithm-unknown');
        assert.equal((await h.task(job)).state, 'FAILED');
      }));

    it('a flagged NOTIFY execution is failed once the job is changed to FAIL', () =>
      withEngine(database, async (t, h) => {
        const job = await h.submit({ taskTimeoutAction: 'NOTIFY', maxTries: 1 });
        const e = await h.running();
        t.clock.advance(10_001);
        assert.equal((await t.engine.reaper.tick()).timedOut, 1);
        await updateJobSettings(t.engine.ctx, job, { taskTimeoutAction: 'FAIL' });
        assert.equal((await t.engine.reaper.tick()).timedOut, 1);
        const ex = await h.execution(e.id);
        assert.equal(ex.state, 'FAILED');
        assert.equal(ex.error_name, 'timeout');
        assert.equal((await h.job(job)).state, 'FAILED');
      }));
  });
}
