import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { failReportedExecution } from '../../src/engine/executions/execution-reports.js';
import { createJobType } from '../../src/engine/job-types/job-types.js';
import { submitJob, type SubmitJobSpec } from '../../src/engine/jobs/job-submission.js';
import { waitingReasons } from '../../src/engine/jobs/waiting-reasons.js';
import { registerNode } from '../../src/engine/nodes/node-registry.js';
import { findJob } from '../../src/store/jobs.js';
import { findTask } from '../../src/store/tasks.js';
import { TEST_DATABASES, startTestEngine, type TestEngine } from '../helpers/databases.js';

/*
 * Retries with backoff (docs/scheduling.md): a failed task with tries left waits its
 * delay (fixed, or doubling up to a maximum, with jitter) and no node may take it before.
 */

async function withEngine(
  database: (typeof TEST_DATABASES)[number],
  fn: (t: TestEngine) => Promise<void>,
): Promise<void> {
  const t = await startTestEngine(database);
  try {
    await fn(t);
  } finally {
    await t.close();
  }
}

/**
 * Fails the job's only task once per entry of `expectedSeconds`, checking each delay is
 * within ±`jitter` of it, that no node takes the task before its time and one does after.
 */
async function failAndWait(
  t: TestEngine,
  retryDelay: SubmitJobSpec['retryDelay'],
  expectedSeconds: number[],
  jitter: number,
): Promise<void> {
  const ctx = t.engine.ctx;
  const job = await submitJob(ctx, {
    type: 'command-line',
    user: 'alice',
    parameters: { executable: 'false' },
    maxTries: expectedSeconds.length + 1,
    // One node fails every try: not a bad node for this test.
    badNodeFailures: 0,
    retryDelay,
  });
  const n1 = (await registerNode(ctx, { name: 'n1' })).id;
  const n2 = (await registerNode(ctx, { name: 'n2' })).id;
  let taken = await t.engine.dispatcher.tryAcquire(n1);
  for (const [i, seconds] of expectedSeconds.entries()) {
    assert.equal(taken?.execution.job_id, job, `try ${i + 1} is taken`);
    const failedAt = t.clock.read();
    await failReportedExecution(ctx, taken!.execution.id, n1, { message: 'exit 1', exitCode: 1 });
    const task = await findTask(ctx.db, taken!.execution.task_id);
    assert.equal(task?.state, 'PENDING');
    const delay = task!.retry_at! - failedAt;
    assert.ok(
      delay >= seconds * 1000 * (1 - jitter) && delay <= seconds * 1000 * (1 + jitter),
      `retry ${i + 1}: ${delay} ms is within ±${jitter * 100}% of ${seconds} s`,
    );
    assert.equal(await t.engine.dispatcher.tryAcquire(n2), undefined, 'not before its time');
    if (i === 0) {
      assert.deepEqual(
        (await waitingReasons(ctx, job)).map((r) => r.code),
        ['RETRY_DELAYED'],
      );
    }
    t.clock.advance(delay - 1);
    assert.equal((await t.engine.reaper.tick()).retried, 0);
    assert.equal(await t.engine.dispatcher.tryAcquire(n2), undefined, '1 ms early');
    t.clock.advance(1);
    assert.equal((await t.engine.reaper.tick()).retried, 1);
    taken = await t.engine.dispatcher.tryAcquire(n1);
  }
  assert.equal(taken?.execution.job_id, job, 'the last try is taken');
}

for (const database of TEST_DATABASES) {
  describe(`retry delays (${database.name})`, () => {
    it('exponential with jitter: each delay within ±20% of 10, 20, 40, 60, 60 s', () =>
      withEngine(database, (t) =>
        failAndWait(
          t,
          { mode: 'EXPONENTIAL', seconds: 10, maxSeconds: 60, jitter: 0.2 },
          [10, 20, 40, 60, 60],
          0.2,
        ),
      ));

    it('fixed without jitter: exactly the delay each time', () =>
      withEngine(database, (t) => failAndWait(t, { mode: 'FIXED', seconds: 5 }, [5, 5, 5], 0)));

    it('none: a failed task is queued again at once', () =>
      withEngine(database, async (t) => {
        const ctx = t.engine.ctx;
        const job = await submitJob(ctx, {
          type: 'command-line',
          user: 'alice',
          parameters: { executable: 'false' },
          maxTries: 3,
        });
        const n1 = (await registerNode(ctx, { name: 'n1' })).id;
        const first = await t.engine.dispatcher.tryAcquire(n1);
        await failReportedExecution(ctx, first!.execution.id, n1, { message: 'x', exitCode: 1 });
        const again = await t.engine.dispatcher.tryAcquire(n1);
        assert.equal(again?.execution.job_id, job);
      }));

    it("a job type's retry delay is the default of its jobs; a job's own wins", () =>
      withEngine(database, async (t) => {
        const ctx = t.engine.ctx;
        await createJobType(ctx, {
          name: 'flaky',
          definition: { command: ['false'], retryDelay: { mode: 'FIXED', seconds: 7 } },
        });
        const job = (retryDelay?: unknown) =>
          submitJob(ctx, { type: 'flaky', user: 'alice', retryDelay }).then((id) =>
            findJob(ctx.db, id),
          );
        assert.deepEqual(JSON.parse((await job())!.retry_delay_json!), {
          mode: 'FIXED',
          seconds: 7,
          maxSeconds: 7,
          jitter: 0,
        });
        assert.equal((await job({ mode: 'NONE' }))!.retry_delay_json, null);
        await assert.rejects(
          createJobType(ctx, {
            name: 'bad',
            definition: { command: ['false'], retryDelay: { mode: 'SOON' } },
          }),
          /retryDelay/,
        );
      }));

    it('refuses a malformed delay', async () => {
      await withEngine(database, async (t) => {
        for (const retryDelay of [
          { mode: 'SOMETIMES' },
          { mode: 'FIXED', seconds: -1 },
          { mode: 'EXPONENTIAL', seconds: 10, maxSeconds: 5 },
          { mode: 'FIXED', seconds: 1, jitter: 0.9 },
        ]) {
          await assert.rejects(
            submitJob(t.engine.ctx, {
              type: 'command-line',
              user: 'alice',
              parameters: { executable: 'false' },
              retryDelay,
            }),
            /retryDelay/,
          );
        }
      });
    });
  });
}
