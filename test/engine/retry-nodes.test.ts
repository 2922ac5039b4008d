import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { claimSingleTaskJob } from '../../src/engine/dispatch/single-task-job-control.js';
import { failReportedExecution } from '../../src/engine/executions/execution-reports.js';
import { createJobType } from '../../src/engine/job-types/job-types.js';
import { submitJob } from '../../src/engine/jobs/job-submission.js';
import { waitingReasons } from '../../src/engine/jobs/waiting-reasons.js';
import { idleReasons } from '../../src/engine/nodes/idle-reasons.js';
import { registerNode, setNodeEnabled } from '../../src/engine/nodes/node-registry.js';
import { findJob } from '../../src/store/jobs.js';
import { findTask } from '../../src/store/tasks.js';
import { TEST_DATABASES, startTestEngine, type TestEngine } from '../helpers/databases.js';

/*
 * Retries bound to a node (docs/scheduling.md#retry-rules): a rule's node SAME keeps the
 * retry on the node that failed it, OTHER keeps it off that node, each falling back when the
 * node it names could not take it; a job's own rules replace its type's.
 */

async function failOn(t: TestEngine, nodeId: number, exitCode: number) {
  const got = await t.engine.dispatcher.tryAcquire(nodeId);
  assert.ok(got, `node ${nodeId} takes a task`);
  await failReportedExecution(t.engine.ctx, got.execution.id, nodeId, {
    message: `exit ${exitCode}`,
    exitCode,
  });
  return (await findTask(t.engine.ctx.db, got.execution.task_id))!;
}

for (const database of TEST_DATABASES) {
  describe(`retries bound to a node (${database.name})`, () => {
    it('SAME: only the failing node, for sameNodeTries there, or any once it is disabled', async () => {
      const t = await startTestEngine(database);
      try {
        const { ctx } = t.engine;
        await createJobType(ctx, { name: 'render', definition: { command: ['render'] } });
        const n1 = (await registerNode(ctx, { name: 'n1' })).id;
        const n2 = (await registerNode(ctx, { name: 'n2' })).id;
        const job = await submitJob(ctx, {
          type: 'render',
          user: 'alice',
          maxTries: 10,
          badNodeFailures: 0,
          retryRules: [{ exitCodes: [4], retry: true, node: 'SAME', sameNodeTries: 3 }],
        });
        const plain = (await findJob(ctx.db, job))!;
        assert.equal(plain.pinned_retries, 0, 'no bound retry yet: the plain claim');

        const task = await failOn(t, n1, 4);
        assert.equal(task.state, 'QUEUED');
        assert.deepEqual([task.retry_node_id, task.retry_node_rule], [n1, 'SAME']);
        assert.equal((await findJob(ctx.db, job))!.pinned_retries, 1);
        assert.equal(await t.engine.dispatcher.tryAcquire(n2), undefined, 'n2 may not take it');
        const waits = await waitingReasons(ctx, job);
        assert.match(
          waits.find((w) => w.code === 'RETRIES_BOUND')?.message ?? '',
          /1 retried task\(s\) wait for node n1, which failed them \(retry rule node SAME\)/,
        );
        const idle = await idleReasons(ctx, n2, 10);
        assert.deepEqual(
          idle.jobs.find((j) => j.jobId === job)?.reasons.map((r) => r.code),
          ['RETRIES_ELSEWHERE'],
        );
        assert.deepEqual((await idleReasons(ctx, n1, 10)).jobs[0]?.reasons, [], 'n1 takes it');
        // A node that names the job (UFDL's claim) is refused the same way.
        const named = await claimSingleTaskJob(ctx, t.engine.settings, job, n2);
        assert.equal(named.kind, 'refused');
        // Two more tries on n1 (three there in all), then any node.
        assert.equal((await failOn(t, n1, 4)).retry_node_id, n1);
        const loose = await failOn(t, n1, 4);
        assert.equal(loose.state, 'QUEUED');
        assert.equal(loose.retry_node_id, null, 'after sameNodeTries the retry is free');
        const onN2 = await t.engine.dispatcher.tryAcquire(n2);
        assert.equal(onN2?.execution.task_id, task.id);

        // Bound to n2 now; n2 disabled: n1 takes it rather than let it wait for n2.
        await failReportedExecution(ctx, onN2!.execution.id, n2, { exitCode: 4 });
        assert.equal((await findTask(ctx.db, task.id))!.retry_node_id, n2);
        assert.equal(await t.engine.dispatcher.tryAcquire(n1), undefined);
        await setNodeEnabled(ctx, n2, false);
        assert.equal((await t.engine.dispatcher.tryAcquire(n1))?.execution.task_id, task.id);
      } finally {
        await t.close();
      }
    });

    it('OTHER: any node but the failing one, unless no other could take the job', async () => {
      const t = await startTestEngine(database);
      try {
        const { ctx } = t.engine;
        await createJobType(ctx, {
          name: 'render',
          definition: {
            command: ['render'],
            retryRules: [{ exitCodes: [5], retry: true, node: 'OTHER' }],
          },
        });
        const n1 = (await registerNode(ctx, { name: 'n1', slots: 2 })).id;
        const n2 = (await registerNode(ctx, { name: 'n2' })).id;
        const job = await submitJob(ctx, {
          type: 'render',
          user: 'alice',
          frames: '1-2',
          maxTries: 10,
          badNodeFailures: 0,
        });
        const first = await failOn(t, n1, 5);
        assert.equal(first.task_index, 0);
        assert.deepEqual(
          [first.state, first.retry_node_id, first.retry_node_rule],
          ['QUEUED', n1, 'OTHER'],
        );
        // n1 is kept from that task only: it takes the job's other task, not the retry.
        const next = await t.engine.dispatcher.tryAcquire(n1);
        assert.equal(next?.task.task_index, 1, 'n1 takes the other task');
        assert.equal(await t.engine.dispatcher.tryAcquire(n1), undefined, 'not the retry');
        // The only other node is disabled: n1 is the only one that could, and takes it.
        await setNodeEnabled(ctx, n2, false);
        assert.equal((await t.engine.dispatcher.tryAcquire(n1))?.task.id, first.id);
        assert.equal((await findJob(ctx.db, job))!.blocked_nodes, 0, 'no node is blocked');
      } finally {
        await t.close();
      }
    });

    it("a job's own rules replace its type's; a job without node rules keeps the plain claim", async () => {
      const t = await startTestEngine(database);
      try {
        const { ctx } = t.engine;
        await createJobType(ctx, {
          name: 'render',
          definition: { command: ['render'], retryRules: [{ exitCodes: [3], retry: false }] },
        });
        const n1 = (await registerNode(ctx, { name: 'n1' })).id;
        const typed = await submitJob(ctx, { type: 'render', user: 'alice', maxTries: 5 });
        assert.equal((await failOn(t, n1, 3)).state, 'FAILED', "the type's rule: no retry");
        const own = await submitJob(ctx, {
          type: 'render',
          user: 'alice',
          maxTries: 5,
          retryRules: [{ exitCodes: [3], retry: true, maxTries: 3 }],
        });
        assert.equal((await failOn(t, n1, 3)).state, 'QUEUED', "the job's rule retries");
        assert.equal((await failOn(t, n1, 3)).state, 'QUEUED');
        assert.equal((await failOn(t, n1, 3)).state, 'FAILED', "the job's rule's maxTries");
        for (const id of [typed, own]) {
          assert.equal((await findJob(ctx.db, id))!.pinned_retries, 0);
        }
        await assert.rejects(
          submitJob(ctx, {
            type: 'render',
            user: 'alice',
            retryRules: [{ retry: true, node: 'OTHER', sameNodeTries: 2 }],
          }),
          /sameNodeTries is only for a rule with node SAME/,
        );
      } finally {
        await t.close();
      }
    });

    it('a waiting node is woken when the node a SAME retry waits for is disabled', async () => {
      const t = await startTestEngine(database);
      try {
        const { ctx } = t.engine;
        await createJobType(ctx, { name: 'render', definition: { command: ['render'] } });
        const n1 = (await registerNode(ctx, { name: 'n1' })).id;
        const n2 = (await registerNode(ctx, { name: 'n2' })).id;
        await submitJob(ctx, {
          type: 'render',
          user: 'alice',
          maxTries: 10,
          badNodeFailures: 0,
          retryRules: [{ exitCodes: [4], retry: true, node: 'SAME', sameNodeTries: 3 }],
        });
        const task = await failOn(t, n1, 4);
        assert.equal(task.retry_node_id, n1);
        // n2 long-polls: the bound retry is not for it, so it parks until an event or the
        // end of its wait (a minute, the longest a claim may wait).
        const waitMs = t.engine.settings.maxAcquireWaitMs;
        const started = Date.now();
        const waiting = t.engine.dispatcher.acquire(n2, waitMs);
        while (t.engine.dispatcher.parked === 0) await new Promise((r) => setTimeout(r, 5));
        await setNodeEnabled(ctx, n1, false);
        const got = await waiting;
        assert.equal(got?.execution.task_id, task.id, 'n2 takes the retry');
        assert.ok(
          Date.now() - started < waitMs,
          'it came with the wake, before the long poll would have ended',
        );
      } finally {
        await t.close();
      }
    });

    it("OTHER: a node missing the job's host requirement is no other node that could take it", async () => {
      const t = await startTestEngine(database);
      try {
        const { ctx } = t.engine;
        await createJobType(ctx, { name: 'render', definition: { command: ['render'] } });
        const site = (value: string) => ({ attributes: { 'attr.site': [value] } });
        const n1 = (await registerNode(ctx, { name: 'n1', capabilities: site('a') })).id;
        await registerNode(ctx, { name: 'n2', capabilities: site('a') });
        const n3 = (await registerNode(ctx, { name: 'n3', capabilities: site('b') })).id;
        const job = await submitJob(ctx, {
          type: 'render',
          user: 'alice',
          maxTries: 10,
          badNodeFailures: 0,
          retryRules: [{ exitCodes: [5], retry: true, node: 'OTHER' }],
          hostRequirement: { attributes: [{ name: 'attr.site', anyOf: ['a'] }], amounts: [] },
        });
        const task = await failOn(t, n1, 5);
        assert.deepEqual([task.retry_node_id, task.retry_node_rule], [n1, 'OTHER']);
        assert.equal(await t.engine.dispatcher.tryAcquire(n3), undefined, 'n3 is not at site a');
        assert.equal(await t.engine.dispatcher.tryAcquire(n1), undefined, 'n2 could take it');
        // n2 moves to site b: no other node could take the job, so n1 takes its retry.
        await registerNode(ctx, { name: 'n2', capabilities: site('b') });
        assert.equal(await t.engine.dispatcher.tryAcquire(n3), undefined);
        assert.equal((await t.engine.dispatcher.tryAcquire(n1))?.task.id, task.id);
        assert.equal((await findJob(ctx.db, job))!.state, 'RUNNING');
      } finally {
        await t.close();
      }
    });
  });
}
