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
  });
}
