import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { completeExecution } from '../../src/engine/executions/execution-reports.js';
import { submitJob } from '../../src/engine/jobs/job-submission.js';
import { registerNode } from '../../src/engine/nodes/node-registry.js';
import { findJob } from '../../src/store/jobs.js';
import { TEST_DATABASES, startTestEngine } from '../helpers/databases.js';

for (const database of TEST_DATABASES) {
  describe(`engine smoke (${database.name})`, () => {
    it('submits, dispatches and completes a job', async () => {
      const t = await startTestEngine(database);
      try {
        const { ctx, settings, dispatcher } = t.engine;
        const jobId = await submitJob(ctx, {
          type: 'command-line',
          user: 'alice',
          frames: '1-4',
          chunkSize: 2,
          parameters: { executable: 'echo' },
        });
        const node = await registerNode(ctx, { name: 'n1' });
        for (let i = 0; i < 2; i++) {
          const got = await dispatcher.tryAcquire(node.id);
          assert.ok(got);
          await completeExecution(ctx, settings, got.execution.id, node.id);
        }
        assert.equal(await dispatcher.tryAcquire(node.id), undefined);
        const job = await findJob(ctx.db, jobId);
        assert.equal(job?.state, 'COMPLETED');
        assert.equal(job?.tasks_completed, 2);
      } finally {
        await t.close();
      }
    });
  });
}
