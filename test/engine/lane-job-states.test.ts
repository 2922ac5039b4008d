import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DroverEvent } from '../../src/engine/events/events.js';
import { finishExecution } from '../../src/engine/executions/execution-batches.js';
import { submitJob } from '../../src/engine/jobs/job-submission.js';
import { registerNode } from '../../src/engine/nodes/node-registry.js';
import { createNotificationRule } from '../../src/engine/notifications/notification-rules.js';
import { findJobs } from '../../src/store/jobs.js';
import { TEST_DATABASES, startTestEngine } from '../helpers/databases.js';

/*
 * Jobs of one task, claimed together and finished together: the write lane starts and ends
 * their jobs in its transaction (on PostgreSQL, the jobs alike in one statement each way:
 * changeJobStates). Each job still gets its own events, its notifications, and releases the
 * job that waits on it.
 */

const one = (name: string, more: { dependencies?: number[] } = {}) => ({
  type: 'command-line',
  user: 'alice',
  name,
  frames: '1',
  parameters: { executable: 'echo' },
  ...more,
});

for (const database of TEST_DATABASES) {
  describe(`job states in the write lane (${database.name})`, () => {
    it('starts and ends jobs claimed and finished together, each with its events', async () => {
      const t = await startTestEngine(database);
      try {
        const { ctx, settings, dispatcher } = t.engine;
        const ids: number[] = [];
        for (let i = 0; i < 6; i++) ids.push(await submitJob(ctx, one(`job ${i}`)));
        const waiting = await submitJob(ctx, one('waits', { dependencies: [ids[0]!, ids[1]!] }));
        await createNotificationRule(
          ctx,
          { id: 0, name: 'alice', role: 'user' },
          { events: ['job.completed'], channel: 'webhook', target: 'http://127.0.0.1:9/hook' },
          { emailConfigured: false },
        );
        // A rule on one job hears that job only; bob's rule hears none of alice's jobs.
        await createNotificationRule(
          ctx,
          { id: 0, name: 'alice', role: 'user' },
          {
            events: ['job.completed'],
            channel: 'webhook',
            target: 'http://127.0.0.1:9/one',
            jobId: ids[2]!,
          },
          { emailConfigured: false },
        );
        await createNotificationRule(
          ctx,
          { id: 0, name: 'bob', role: 'user' },
          { events: ['job.completed'], channel: 'webhook', target: 'http://127.0.0.1:9/bob' },
          { emailConfigured: false },
        );
        const nodes = await Promise.all(
          ids.map((_, i) => registerNode(ctx, { name: `node-${i}` })),
        );
        const events: DroverEvent[] = [];
        const unsubscribe = ctx.bus.subscribe((e) => void events.push(e));
        try {
          const orders = await Promise.all(nodes.map((n) => dispatcher.tryAcquire(n.id)));
          assert.deepEqual(
            orders.map((o) => o?.job.id).sort((a, b) => a! - b!),
            ids,
            'each node took one job',
          );
          for (const o of orders) assert.equal(o!.job.state, 'RUNNING');
          let jobs = await findJobs(ctx.db, ids);
          for (const job of jobs) {
            assert.equal(job.state, 'RUNNING');
            assert.equal(job.started_at, t.clock.now);
          }
          t.clock.advance(1000);
          await Promise.all(
            orders.map((o, i) =>
              finishExecution(ctx, settings, nodes[i]!.id, {
                executionId: o!.execution.id,
                success: true,
              }),
            ),
          );
          jobs = await findJobs(ctx.db, ids);
          for (const job of jobs) {
            assert.equal(job.state, 'COMPLETED');
            assert.equal(job.ended_at, t.clock.now);
            assert.equal(job.tasks_completed, 1);
          }
          const moves = (from: string, to: string) =>
            events
              .filter((e) => e.type === 'job.state' && e.from === from && e.to === to)
              .map((e) => (e as { jobId: number }).jobId)
              .sort((a, b) => a - b);
          assert.deepEqual(moves('QUEUED', 'RUNNING'), ids);
          assert.deepEqual(moves('RUNNING', 'COMPLETED'), ids);
        } finally {
          unsubscribe();
        }
        const outbox = await ctx.db.selectFrom('notification_outbox').selectAll().execute();
        assert.deepEqual(
          outbox.map((r) => Number(r.job_id)).sort((a, b) => a - b),
          [...ids, ids[2]!].sort((a, b) => a - b),
          "one notification per completed job, and one more for the job's own rule",
        );
        assert.ok(outbox.every((r) => r.event === 'job.completed' && r.state === 'PENDING'));
        const [released] = await findJobs(ctx.db, [waiting]);
        assert.equal(released?.state, 'QUEUED', 'the job waiting on two of them is released');
      } finally {
        await t.close();
      }
    });
  });
}
