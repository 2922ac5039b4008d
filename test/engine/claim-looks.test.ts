import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SubmitJobSpec } from '../../src/engine/jobs/job-submission.js';
import { submitJob } from '../../src/engine/jobs/job-submission.js';
import { registerNode } from '../../src/engine/nodes/node-registry.js';
import { findExecution } from '../../src/store/executions.js';
import { takeStatementCounts } from '../../src/store/statement-counts.js';
import { findTask } from '../../src/store/tasks.js';
import { TEST_DATABASES, startTestEngine } from '../helpers/databases.js';

/*
 * Claims that arrive together share one transaction; on SQLite they also share their first
 * look at the queue where nothing depends on the node (engine/dispatcher.ts, FirstLooks).
 * Each claim must still get what it would have got alone, in dispatch order.
 */

const spec = (frames: string, more: Partial<SubmitJobSpec> = {}): SubmitJobSpec => ({
  type: 'command-line',
  user: 'alice',
  frames,
  parameters: { executable: 'echo' },
  ...more,
});

for (const database of TEST_DATABASES) {
  describe(`claims made together (${database.name})`, () => {
    it('hand out the queue in dispatch order, each task once, across jobs that run dry', async () => {
      const t = await startTestEngine(database);
      try {
        const { ctx, dispatcher } = t.engine;
        const low = await submitJob(ctx, spec('1-10', { priority: 10 }));
        const high = await submitJob(ctx, spec('1-4', { priority: 90 }));
        const mid = await submitJob(ctx, spec('1-5', { priority: 50 }));
        const nodes = [];
        for (let n = 0; n < 8; n++)
          nodes.push(await registerNode(ctx, { name: `n${n}`, slots: 3 }));
        // Made in one turn, they join one transaction, in this order.
        const claims = await Promise.all(nodes.map((n) => dispatcher.tryClaim(n.id, { max: 3 })));
        const taken = claims.flat().map((a) => [a.job.id, a.task.task_index]);
        const expected = [
          ...[0, 1, 2, 3].map((i) => [high, i]),
          ...[0, 1, 2, 3, 4].map((i) => [mid, i]),
          ...[0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => [low, i]),
        ];
        assert.deepEqual(taken, expected.slice(0, 19), 'all 19 tasks, best job first');
        assert.deepEqual(
          claims.map((c) => c.length),
          [3, 3, 3, 3, 3, 3, 1, 0],
        );
      } finally {
        await t.close();
      }
    });

    it('jobs of one task: each claim reads only the queue of a job that may still have work', async () => {
      // Counted from the engine's start: the statements of its database (statement-counts.ts).
      process.env.DROVER_COUNT_STATEMENTS = '1';
      const t = await startTestEngine(database);
      delete process.env.DROVER_COUNT_STATEMENTS;
      try {
        const { ctx, dispatcher } = t.engine;
        const jobs = [];
        for (let j = 0; j < 12; j++) jobs.push(await submitJob(ctx, spec('1', { name: `j${j}` })));
        const nodes = [];
        for (let n = 0; n < 12; n++) nodes.push(await registerNode(ctx, { name: `n${n}` }));
        takeStatementCounts();
        const claims = await Promise.all(nodes.map((n) => dispatcher.tryClaim(n.id, { max: 1 })));
        assert.deepEqual(
          claims.map((c) => c.map((a) => a.job.id)),
          jobs.map((id) => [id]),
          'each node the next job, oldest first',
        );
        const queueReads = [...takeStatementCounts()]
          .filter(([text]) => text.includes('from "tasks" where "job_id" = ? and "state" = ?'))
          .reduce((n, [, c]) => n + c.count, 0);
        // SQLite claims one by one: one read per claim. Each claim used to read the empty
        // queue of every job that the claims before it had drained from the shared look:
        // 50 reads here. PostgreSQL reads inside drover_claim.
        if (ctx.dialect === 'sqlite') assert.equal(queueReads, 12);
      } finally {
        await t.close();
      }
    });

    it('write what they took of each job together: each task once, numbered in order, within slots', async () => {
      const t = await startTestEngine(database);
      try {
        const { ctx, dispatcher } = t.engine;
        const plain = await submitJob(ctx, spec('1-6', { priority: 90 }));
        // Asks for a cpu: its claims count the node's room, and are written at once.
        const sized = await submitJob(ctx, spec('1-3', { priority: 50, resources: { cpus: 1 } }));
        const a = await registerNode(ctx, { name: 'a', slots: 2, cpus: 4 });
        const b = await registerNode(ctx, { name: 'b', slots: 5, cpus: 1 });
        // In one transaction, in this order: a twice (its second claim finds one slot left,
        // though nothing of its first is written yet), b, then a once more (no slot left).
        const calls = [a, a, b, a].map((n, i) =>
          dispatcher.tryClaim(n.id, { max: i === 2 ? 3 : i === 0 ? 1 : 2 }),
        );
        const [a1, a2, b1, a3] = await Promise.all(calls);
        const jobsOf = (claim: typeof a1) => claim!.map((x) => [x.job.id, x.task.task_index]);
        assert.deepEqual(jobsOf(a1), [[plain, 0]]);
        assert.deepEqual(jobsOf(a2), [[plain, 1]], 'one slot left of two');
        // b looks afresh (it has another cpu count): a's claims are written first.
        assert.deepEqual(jobsOf(b1), [
          [plain, 2],
          [plain, 3],
          [plain, 4],
        ]);
        assert.deepEqual(a3, [], 'a has no slot left');
        const all = [...a1!, ...a2!, ...b1!];
        const numbers = all.map((x) => x.execution.exe_num);
        assert.deepEqual(numbers, [1, 2, 3, 4, 5], 'executions numbered in the order taken');
        for (const x of all) {
          const execution = (await findExecution(ctx.db, x.execution.id))!;
          const task = (await findTask(ctx.db, x.task.id))!;
          assert.equal(execution.node_id, x.execution.node_id);
          assert.equal(task.state, 'RUNNING');
          assert.equal(task.node_id, execution.node_id);
          assert.equal(task.last_execution_id, execution.id);
          assert.equal(x.job.state, 'RUNNING');
        }
        // Each work order has its job's row as the write of its claim left it: on SQLite, a's
        // claims were written before b looked afresh; PostgreSQL writes the group at once.
        const early = ctx.dialect === 'sqlite' ? [2, 4] : [5, 1];
        assert.deepEqual(
          all.map((x) => [x.job.tasks_running, x.job.tasks_queued]),
          [early, early, [5, 1], [5, 1], [5, 1]],
        );
        // The sized job's claims count the room each node has: b's one cpu, none of it used
        // by the plain tasks it runs.
        const [b2, a4] = await Promise.all([
          dispatcher.tryClaim(b.id, { max: 3 }),
          dispatcher.tryClaim(a.id, { max: 3 }),
        ]);
        assert.deepEqual(jobsOf(b2), [
          [plain, 5],
          [sized, 0],
        ]);
        assert.deepEqual(a4, [], 'a has no slot left');
        const c = await registerNode(ctx, { name: 'c', slots: 4, cpus: 2 });
        const c1 = await dispatcher.tryClaim(c.id, { max: 4 });
        assert.deepEqual(jobsOf(c1), [
          [sized, 1],
          [sized, 2],
        ]);
      } finally {
        await t.close();
      }
    });

    it("a node's claims in one transaction count each other's tasks against its slots", async () => {
      const t = await startTestEngine(database);
      try {
        const { ctx, dispatcher } = t.engine;
        // Asks for a cpu: written claim by claim, unlike a plain job's tasks.
        const sized = await submitJob(ctx, spec('1-4', { resources: { cpus: 1 } }));
        const n = await registerNode(ctx, { name: 'n', slots: 3, cpus: 8 });
        const [first, second] = await Promise.all([
          dispatcher.tryClaim(n.id, { max: 2 }),
          dispatcher.tryClaim(n.id, { max: 2 }),
        ]);
        assert.equal(first!.length + second!.length, 3, 'three slots');
        assert.ok([...first!, ...second!].every((a) => a.job.id === sized));
      } finally {
        await t.close();
      }
    });

    it("a node's allow list is honoured when a node alike claims in the same transaction", async () => {
      const t = await startTestEngine(database);
      try {
        const { ctx, dispatcher } = t.engine;
        const onlyN2 = await submitJob(ctx, spec('1-3', { priority: 90, allowList: ['n2'] }));
        const open = await submitJob(ctx, spec('1-3', { priority: 50 }));
        const n1 = await registerNode(ctx, { name: 'n1' });
        const n2 = await registerNode(ctx, { name: 'n2' });
        // n1 looks first and cannot see the better job; n2 must not take n1's view of the queue.
        const [a1, a2] = await Promise.all([
          dispatcher.tryClaim(n1.id, { max: 1 }),
          dispatcher.tryClaim(n2.id, { max: 1 }),
        ]);
        assert.equal(a1[0]?.job.id, open);
        assert.equal(a2[0]?.job.id, onlyN2);
      } finally {
        await t.close();
      }
    });

    it('a machine limit counts for each node on its own in the same transaction', async () => {
      const t = await startTestEngine(database);
      try {
        const { ctx, dispatcher } = t.engine;
        const limited = await submitJob(ctx, spec('1-4', { priority: 90, machineLimit: 1 }));
        const open = await submitJob(ctx, spec('1-3', { priority: 50 }));
        const n1 = await registerNode(ctx, { name: 'n1', slots: 2 });
        const n2 = await registerNode(ctx, { name: 'n2', slots: 2 });
        const first = await dispatcher.tryClaim(n1.id, { max: 1 });
        assert.equal(first[0]?.job.id, limited);
        // n2 looks first: the limited job is full for it, but not for n1, which holds it.
        const [a2, a1] = await Promise.all([
          dispatcher.tryClaim(n2.id, { max: 1 }),
          dispatcher.tryClaim(n1.id, { max: 1 }),
        ]);
        assert.equal(a2[0]?.job.id, open);
        assert.equal(a1[0]?.job.id, limited);
      } finally {
        await t.close();
      }
    });
  });
}
