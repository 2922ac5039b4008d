import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { claimSingleTaskJob } from '../../src/engine/dispatch/single-task-job-control.js';
import type { Engine } from '../../src/engine/engine.js';
import { failReportedExecution } from '../../src/engine/executions/execution-reports.js';
import { clearJobNodeFailures, jobNodeFailures } from '../../src/engine/jobs/bad-nodes.js';
import { updateJobSettings } from '../../src/engine/jobs/job-actions.js';
import { submitJob, type SubmitJobSpec } from '../../src/engine/jobs/job-submission.js';
import { waitingReasons } from '../../src/engine/jobs/waiting-reasons.js';
import { registerNode } from '../../src/engine/nodes/node-registry.js';
import { findJob } from '../../src/store/jobs.js';
import type { ExecutionRow } from '../../src/store/schema.js';
import { TEST_DATABASES, startTestEngine } from '../helpers/databases.js';

/*
 * Bad nodes (docs/scheduling.md): a node that fails one job its badNodeFailures times
 * stops taking that job, and only that job, until an operator clears it.
 */

function farm(engine: Engine) {
  const ctx = engine.ctx;
  return {
    submit: (more: Partial<SubmitJobSpec> = {}) =>
      submitJob(ctx, {
        type: 'command-line',
        user: 'alice',
        parameters: { executable: 'echo' },
        maxTries: 20,
        ...more,
      }),
    node: async (name: string) => (await registerNode(ctx, { name })).id,
    take: async (nodeId: number) => (await engine.dispatcher.tryAcquire(nodeId))?.execution,
    fail: (e: ExecutionRow) =>
      failReportedExecution(ctx, e.id, e.node_id, { message: 'exit 1', exitCode: 1 }),
    /** Takes a task of `jobId` on the node and fails it, `times` times. */
    async failOn(nodeId: number, jobId: number, times: number) {
      for (let i = 0; i < times; i++) {
        const e = await this.take(nodeId);
        assert.equal(e?.job_id, jobId, `failure ${i + 1}: the node takes the job`);
        await this.fail(e!);
      }
    },
  };
}

for (const database of TEST_DATABASES) {
  describe(`bad nodes (${database.name})`, () => {
    it('a node that failed a job its count of times stops taking it, until cleared', async () => {
      const t = await startTestEngine(database);
      try {
        const f = farm(t.engine);
        const job = await f.submit({ frames: '1-5', badNodeFailures: 2 });
        const other = await f.submit({ priority: 10 });
        const n1 = await f.node('n1');
        await f.failOn(n1, job, 2);
        // Blocked from the job, n1 takes the lower-priority job instead.
        const instead = await f.take(n1);
        assert.equal(instead?.job_id, other);
        assert.deepEqual(
          (await jobNodeFailures(t.engine.ctx, job)).map((b) => [
            b.nodeName,
            b.failures,
            b.blocked,
          ]),
          [['n1', 2, true]],
        );
        assert.equal((await findJob(t.engine.ctx.db, job))?.blocked_nodes, 1);
        const reasons = await waitingReasons(t.engine.ctx, job);
        assert.deepEqual(
          reasons.map((r) => r.code),
          ['NODES_BLOCKED'],
        );
        const n2 = await f.node('n2');
        assert.equal((await f.take(n2))?.job_id, job, 'another node still takes it');

        assert.equal(await clearJobNodeFailures(t.engine.ctx, job, n1), 1);
        assert.deepEqual(await jobNodeFailures(t.engine.ctx, job), []);
        await f.fail(instead!);
        assert.equal((await f.take(n1))?.job_id, job, 'cleared: n1 takes the job again');

        // UFDL's claim of a named single-task job refuses a node blocked from it.
        const single = await f.submit({ badNodeFailures: 1, priority: 95 });
        const n5 = await f.node('n5');
        await f.failOn(n5, single, 1);
        const claim = await claimSingleTaskJob(t.engine.ctx, t.engine.settings, single, n5);
        assert.equal(claim.kind, 'refused');
      } finally {
        await t.close();
      }
    });

    it('blocks after 3 failures by default, and never with 0', async () => {
      const t = await startTestEngine(database);
      try {
        const f = farm(t.engine);
        const job = await f.submit({ frames: '1-5' });
        const n1 = await f.node('n1');
        await f.failOn(n1, job, 2);
        assert.equal((await jobNodeFailures(t.engine.ctx, job))[0]?.blocked, false);
        await f.failOn(n1, job, 1);
        assert.equal(await f.take(n1), undefined, 'blocked after the third failure');

        const tolerant = await f.submit({ frames: '1-5', badNodeFailures: 0, priority: 90 });
        const n2 = await f.node('n2');
        await f.failOn(n2, tolerant, 5);
        assert.equal((await f.take(n2))?.job_id, tolerant, 'never blocked with 0');
        assert.deepEqual(await jobNodeFailures(t.engine.ctx, tolerant), []);

        // A count set later counts the failures from then on.
        const n3 = await f.node('n3');
        await updateJobSettings(t.engine.ctx, tolerant, { badNodeFailures: 1 });
        await f.failOn(n3, tolerant, 1);
        assert.equal((await f.take(n3))?.job_id, job, 'blocked from it after one failure');
      } finally {
        await t.close();
      }
    });
  });
}
