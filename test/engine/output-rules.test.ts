import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { finishExecutions } from '../../src/engine/executions/execution-batches.js';
import { completeExecution } from '../../src/engine/executions/execution-reports.js';
import { createJobType } from '../../src/engine/job-types/job-types.js';
import { submitJob } from '../../src/engine/jobs/job-submission.js';
import { registerNode } from '../../src/engine/nodes/node-registry.js';
import { addOutput } from '../../src/engine/outputs/outputs.js';
import { findError } from '../../src/store/error-catalog.js';
import { findExecution } from '../../src/store/executions.js';
import { findTask } from '../../src/store/tasks.js';
import { TEST_DATABASES, startTestEngine } from '../helpers/databases.js';

/*
 * Output rules (docs/scheduling.md#output-rules): a task that finishes well but lacks one of
 * its job type's declared outputs, or uploaded it empty, fails with the DATA error
 * output-missing and is retried as a bad frame; with its outputs it completes. Both the
 * lone finish and the batched one (POST /nodes/{id}/finishes) apply the rule.
 */

for (const database of TEST_DATABASES) {
  describe(`output rules (${database.name})`, () => {
    it('fails a finished task whose declared output is missing or empty, and retries it', async () => {
      const t = await startTestEngine(database);
      try {
        const { ctx, settings } = t.engine;
        const error = await findError(ctx.db, 'output-missing', undefined);
        assert.equal(error?.category, 'DATA');
        await createJobType(ctx, {
          name: 'render',
          definition: {
            command: ['render'],
            maxTries: 5,
            outputs: [
              { name: 'frames', type: 'image/x-exr', pattern: '*.exr' },
              { name: 'preview', type: 'image/png', pattern: '*.png', required: false },
            ],
          },
        });
        const node = (await registerNode(ctx, { name: 'n1' })).id;
        const job = await submitJob(ctx, { type: 'render', user: 'alice', badNodeFailures: 0 });
        const take = async () => (await t.engine.dispatcher.tryAcquire(node))!.execution;

        const missing = await take();
        await completeExecution(ctx, settings, missing.id, node);
        const e1 = (await findExecution(ctx.db, missing.id))!;
        assert.equal(e1.state, 'FAILED');
        assert.equal(e1.error_name, 'output-missing');
        assert.match(
          e1.error_message ?? '',
          /output frames is missing: no uploaded file matches '\*\.exr'/,
        );
        assert.equal((await findTask(ctx.db, missing.task_id))!.state, 'QUEUED', 'retried');

        // The batched finish applies the rule too; an empty file is no output.
        const empty = await take();
        await addOutput(ctx, empty.id, node, { name: 'f1.exr', content: Buffer.alloc(0) });
        const [result] = await finishExecutions(ctx, settings, node, [
          { executionId: empty.id, success: true, exitCode: 0 },
        ]);
        assert.equal(result?.status, 200);
        const e2 = (await findExecution(ctx.db, empty.id))!;
        assert.equal(e2.error_name, 'output-missing');
        assert.match(e2.error_message ?? '', /output frames is empty: f1\.exr has no bytes/);

        const whole = await take();
        await addOutput(ctx, whole.id, node, { name: 'f1.exr', content: Buffer.from('EXR') });
        await finishExecutions(ctx, settings, node, [
          { executionId: whole.id, success: true, exitCode: 0 },
        ]);
        assert.equal((await findExecution(ctx.db, whole.id))!.state, 'COMPLETED');
        const task = (await findTask(ctx.db, whole.task_id))!;
        assert.equal(task.state, 'COMPLETED');
        assert.equal(task.job_id, job);
      } finally {
        await t.close();
      }
    });

    it('one batch of finishes over jobs of both kinds judges only the judged', async () => {
      const t = await startTestEngine(database);
      try {
        const { ctx, settings, dispatcher } = t.engine;
        await createJobType(ctx, {
          name: 'render',
          definition: {
            command: ['render'],
            maxTries: 1,
            outputs: [{ name: 'frames', type: 'image/x-exr', pattern: '*.exr' }],
          },
        });
        const node = (await registerNode(ctx, { name: 'n1', slots: 4 })).id;
        const judged = await submitJob(ctx, { type: 'render', user: 'alice', frames: '1-2' });
        const plain = await submitJob(ctx, {
          type: 'command-line',
          user: 'alice',
          frames: '1-2',
          parameters: { executable: 'echo' },
        });
        const taken = await dispatcher.tryClaim(node, { max: 4 });
        assert.deepEqual(
          taken.map((a) => a.job.id),
          [judged, judged, plain, plain],
        );
        // Each batch holds a task of each job; the second finds both jobs in the cache of
        // what judges outputs.
        const [j1, j2, p1, p2] = taken;
        for (const pair of [
          [j1!, p1!],
          [j2!, p2!],
        ]) {
          const results = await finishExecutions(
            ctx,
            settings,
            node,
            pair.map((a) => ({ executionId: a.execution.id, success: true, exitCode: 0 })),
          );
          assert.deepEqual(
            results.map((r) => r.status),
            pair.map(() => 200),
          );
        }
        for (const { execution, job } of taken) {
          const row = (await findExecution(ctx.db, execution.id))!;
          if (job.id === judged) {
            assert.equal(row.state, 'FAILED', `execution ${row.id} of the judged job`);
            assert.equal(row.error_name, 'output-missing');
          } else {
            assert.equal(job.id, plain);
            assert.equal(row.state, 'COMPLETED', `execution ${row.id} of the plain job`);
          }
        }
      } finally {
        await t.close();
      }
    });
  });
}
