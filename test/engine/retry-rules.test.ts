import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { failReportedExecution } from '../../src/engine/executions/execution-reports.js';
import { createJobType } from '../../src/engine/job-types/job-types.js';
import { submitJob } from '../../src/engine/jobs/job-submission.js';
import { registerNode } from '../../src/engine/nodes/node-registry.js';
import { findTask } from '../../src/store/tasks.js';
import { TEST_DATABASES, startTestEngine } from '../helpers/databases.js';

/*
 * Retry rules (docs/scheduling.md#retry-rules): a job type's rules decide, by exit code and
 * error category, whether a failed task is retried, on another node, and how many times
 * (retry-nodes.test.ts: the same node, the fallbacks, and a job's own rules).
 */

for (const database of TEST_DATABASES) {
  describe(`retry rules (${database.name})`, () => {
    it('retries by exit code on another node, or not at all, or as many times as a rule allows', async () => {
      const t = await startTestEngine(database);
      try {
        const { ctx } = t.engine;
        await createJobType(ctx, {
          name: 'render',
          definition: {
            command: ['render'],
            maxTries: 10,
            retryRules: [
              { exitCodes: [3], retry: false },
              { exitCodes: [4], retry: true, node: 'OTHER' },
              { exitCodes: [5], retry: true, maxTries: 2 },
              { categories: ['SYSTEM'], retry: false },
            ],
          },
        });
        const n1 = (await registerNode(ctx, { name: 'n1' })).id;
        const n2 = (await registerNode(ctx, { name: 'n2' })).id;
        const failOn = async (nodeId: number, jobId: number, exitCode: number) => {
          const got = await t.engine.dispatcher.tryAcquire(nodeId);
          assert.equal(got?.execution.job_id, jobId, `node ${nodeId} takes job ${jobId}`);
          await failReportedExecution(ctx, got!.execution.id, nodeId, {
            message: `exit ${exitCode}`,
            exitCode,
          });
          return (await findTask(ctx.db, got!.execution.task_id))!;
        };

        // Exit 4: retried, but not on the node that failed it while another could take it.
        const other = await submitJob(ctx, { type: 'render', user: 'alice', badNodeFailures: 0 });
        const retried = await failOn(n1, other, 4);
        assert.equal(retried.state, 'QUEUED');
        assert.deepEqual([retried.retry_node_id, retried.retry_node_rule], [n1, 'OTHER']);
        assert.equal(await t.engine.dispatcher.tryAcquire(n1), undefined, 'not on n1 again');
        assert.equal((await t.engine.dispatcher.tryAcquire(n2))?.execution.task_id, retried.id);

        // Exit 3: not retried, though tries remain.
        const never = await submitJob(ctx, { type: 'render', user: 'alice', priority: 90 });
        const failed = await failOn(n1, never, 3);
        assert.equal(failed.state, 'FAILED');
        assert.equal(failed.tries, 1);

        // Exit 5: two tries in all, not the job's ten.
        const twice = await submitJob(ctx, { type: 'render', user: 'alice', priority: 95 });
        assert.equal((await failOn(n1, twice, 5)).state, 'QUEUED');
        assert.equal((await failOn(n1, twice, 5)).state, 'FAILED');

        // A category rule: the node calls it a SYSTEM failure, which the rule does not retry.
        const system = await submitJob(ctx, { type: 'render', user: 'alice', priority: 96 });
        const got = await t.engine.dispatcher.tryAcquire(n1);
        assert.equal(got?.execution.job_id, system);
        await failReportedExecution(ctx, got!.execution.id, n1, {
          message: 'disk full',
          category: 'SYSTEM',
          errorName: 'filesystem-io',
        });
        assert.equal((await findTask(ctx.db, got!.execution.task_id))!.state, 'FAILED');

        // No rule matches exit 1: the error's own default (retried) and the job's tries.
        const usual = await submitJob(ctx, { type: 'render', user: 'alice', priority: 97 });
        assert.equal((await failOn(n1, usual, 1)).state, 'QUEUED');
      } finally {
        await t.close();
      }
    });

    it('refuses malformed rules with the reason', async () => {
      const t = await startTestEngine(database);
      try {
        for (const [retryRules, reason] of [
          [[{ exitCodes: [1] }], /retry must be true or false/],
          [[{ retry: true, node: 'ELSEWHERE' }], /node must be one of ANY, SAME, OTHER/],
          [[{ retry: true, node: 'SAME', sameNodeTries: 1 }], /sameNodeTries must be/],
          [[{ retry: false, maxTries: 2 }], /maxTries is only for a rule that retries/],
          [[{ retry: true, exitCodes: [] }], /exitCodes must be 1 to 64/],
          [[{ retry: true, categories: ['BAD'] }], /categories must name/],
          [[{ retry: true, when: 1 }], /unknown field "when"/],
          [Array.from({ length: 33 }, () => ({ retry: true })), /at most 32 rules/],
        ] as const) {
          await assert.rejects(
            createJobType(t.engine.ctx, {
              name: 'bad',
              definition: { command: ['x'], retryRules: retryRules as unknown[] },
            }),
            reason,
          );
        }
      } finally {
        await t.close();
      }
    });
  });
}
