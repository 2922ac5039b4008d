import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import { submitJob } from '../../src/engine/jobs/job-submission.js';
import { registerNode } from '../../src/engine/nodes/node-registry.js';
import { claimGroup, type GroupClaim } from '../../src/store/claim-groups.js';
import type { Tx } from '../../src/store/database.js';
import { completeLiveExecutionsLeavingCounters } from '../../src/store/task-completions.js';
import { TEST_DATABASES, startTestEngine, type TestEngine } from '../helpers/databases.js';
import { eventually } from '../helpers/eventually.js';

/*
 * Migration 0030 (PostgreSQL): `drover_claim` chooses tasks without touching their jobs'
 * rows and moves every job's counters at its end, in id order, so that two transactions of
 * the write lane can run at once. These tests hold one transaction open while another
 * runs, and check what each may and may not do: a node's slots are counted once across
 * both, a job's counters wait for the row and come out exact, and a claim never waits for
 * a job's row that another transaction holds.
 */

const WALK = (now: number) => ({
  now,
  leaseExpiresAt: now + 60_000,
  heartbeatBefore: now - 5_000,
  maxClaim: 100,
  maxSkippedJobs: 20,
  jobsPerLook: 4,
});

/** Every held transaction's release: a failed test releases them before it closes. */
const releases: (() => void)[] = [];

/** A transaction held open until `release` is called; `ran` is what `work` answered. */
function held<T>(t: TestEngine, work: (tx: Tx) => Promise<T>) {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  releases.push(release);
  let answered!: (value: T) => void;
  const ran = new Promise<T>((resolve) => (answered = resolve));
  const done = t.engine.ctx.db.transaction().execute(async (tx) => {
    answered(await work(tx));
    await released;
  });
  return { ran, release, done };
}

const claims = (...list: [number, number][]): GroupClaim[] =>
  list.map(([nodeId, max]) => ({ nodeId, max, start: true }));

/** One group of claims (`[node, max]` each) in a transaction of its own, walking at `now`. */
const claimAt = (t: TestEngine, now: number, ...list: [number, number][]) =>
  t.engine.ctx.db.transaction().execute((tx) => claimGroup(tx, claims(...list), WALK(now)));

/** A node's report that an execution succeeded, as the finishes' statement takes it. */
const success = (executionId: number, nodeId: number, cpuSeconds: number | null = null) => ({
  executionId,
  nodeId,
  exitCode: 0,
  timedOut: false,
  usage: {
    cpu_seconds: cpuSeconds,
    wall_seconds: null,
    peak_memory_bytes: null,
    gpu_seconds: null,
  },
});

async function counters(t: TestEngine, jobId: number) {
  return t.engine.ctx.db
    .selectFrom('jobs')
    .select(['num_exes', 'tasks_queued', 'tasks_running', 'tasks_completed'])
    .where('id', '=', jobId)
    .executeTakeFirstOrThrow();
}

async function setUp(t: TestEngine) {
  const { ctx } = t.engine;
  const jobId = await submitJob(ctx, {
    type: 'command-line',
    user: 'alice',
    frames: '1-10',
    parameters: { executable: 'true' },
  });
  const a = await registerNode(ctx, { name: 'a', slots: 4 });
  const b = await registerNode(ctx, { name: 'b', slots: 4 });
  return { jobId, a: a.id, b: b.id };
}

/** A job of `frames` ahead of setUp's job: its priority is higher. */
function submitAhead(t: TestEngine, frames: string): Promise<number> {
  return submitJob(t.engine.ctx, {
    type: 'command-line',
    user: 'alice',
    frames,
    priority: 90,
    parameters: { executable: 'true' },
  });
}

for (const database of TEST_DATABASES.filter((d) => d.name === 'postgres')) {
  describe(`claims move their counters last (${database.name})`, () => {
    it('two transactions claiming for one node share its slots: the second takes nothing', async () => {
      const t = await startTestEngine(database);
      try {
        const { ctx } = t.engine;
        const { jobId, a } = await setUp(t);
        // A job ahead of the other, with two tasks: the first claim takes them and holds
        // that job's row; the second claim finds the other job free.
        const ahead = await submitAhead(t, '1-2');
        const now = ctx.clock();
        const first = held(t, (tx) => claimGroup(tx, claims([a, 2]), WALK(now)));
        const [mine] = (await first.ran).claims;
        assert.deepEqual(
          mine!.taken.map((x) => x.job.id),
          [ahead, ahead],
        );
        const second = await claimAt(t, now, [a, 4]);
        assert.equal(second.claims[0]!.taken.length, 0, 'two of four slots are taken already');
        assert.equal(second.claims[0]!.contended, true, 'so its dispatcher looks again');
        first.release();
        await first.done;
        const again = await claimAt(t, now, [a, 4]);
        assert.deepEqual(
          again.claims[0]!.taken.map((x) => x.job.id),
          [jobId, jobId],
          'the two free slots',
        );
      } finally {
        for (const release of releases.splice(0)) release();
        await t.close();
      }
    });

    it('a transaction’s completions wait for the job’s row and leave exact counters and execution numbers', async () => {
      const t = await startTestEngine(database);
      try {
        const { ctx } = t.engine;
        const { jobId, a, b } = await setUp(t);
        const now = ctx.clock();
        const byB = await claimAt(t, now, [b, 2]);
        const finished = byB.claims[0]!.taken.map((x) => x.execution);
        assert.equal(finished.length, 2);

        // The first transaction claims from the job and holds its row until released.
        const first = held(t, (tx) => claimGroup(tx, claims([a, 3]), WALK(now)));
        assert.equal((await first.ran).claims[0]!.taken.length, 3);
        // The second completes b's two tasks, then claims for b: its counters wait.
        let secondDone = false;
        let pidKnown!: (pid: number) => void;
        const secondPid = new Promise<number>((resolve) => (pidKnown = resolve));
        const second = ctx.db
          .transaction()
          .execute(async (tx) => {
            const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(tx);
            pidKnown(rows[0]!.pid);
            const completed = await completeLiveExecutionsLeavingCounters(
              tx,
              finished.map((e) => success(e.id, e.node_id)),
              now,
            );
            assert.equal(completed.filter((c) => c.taskMoved).length, 2);
            return claimGroup(tx, claims([b, 2]), WALK(now), [{ jobId, count: completed.length }]);
          })
          .finally(() => (secondDone = true));
        const pid = await secondPid;
        await eventually(async () => {
          const { rows } = await sql<{ wait: string | null }>`
            select wait_event_type as wait from pg_stat_activity where pid = ${pid}
          `.execute(ctx.db);
          assert.equal(rows[0]?.wait, 'Lock', 'the second transaction waits on the job’s row');
        });
        assert.equal(secondDone, false);
        first.release();
        await first.done;
        const { claims: got, completedJobs } = await second;
        assert.equal(got[0]!.taken.length, 2);
        assert.equal(completedJobs.length, 1);
        assert.equal(completedJobs[0]!.tasks_completed, 2);
        assert.deepEqual(await counters(t, jobId), {
          num_exes: 7,
          tasks_queued: 3,
          tasks_running: 5,
          tasks_completed: 2,
        });
        const numbers = await ctx.db
          .selectFrom('executions')
          .select('exe_num')
          .where('job_id', '=', jobId)
          .orderBy('exe_num')
          .execute();
        assert.deepEqual(
          numbers.map((r) => r.exe_num),
          [1, 2, 3, 4, 5, 6, 7],
        );
      } finally {
        for (const release of releases.splice(0)) release();
        await t.close();
      }
    });

    it('a claim never waits for a job’s row that another transaction holds: it gives the tasks back', async () => {
      const t = await startTestEngine(database);
      try {
        const { ctx } = t.engine;
        const { jobId, a } = await setUp(t);
        const holder = held(t, (tx) =>
          sql`select id from jobs where id = ${jobId} for update`.execute(tx),
        );
        await holder.ran;
        const got = await claimAt(t, ctx.clock(), [a, 4]);
        assert.equal(got.claims[0]!.taken.length, 0);
        assert.equal(got.claims[0]!.contended, true);
        holder.release();
        await holder.done;
        assert.deepEqual(await counters(t, jobId), {
          num_exes: 0,
          tasks_queued: 10,
          tasks_running: 0,
          tasks_completed: 0,
        });
        const live = await ctx.db.selectFrom('executions').select('id').execute();
        assert.deepEqual(live, [], 'no execution was left behind');
        const queued = await ctx.db
          .selectFrom('tasks')
          .select('id')
          .where('job_id', '=', jobId)
          .where('state', '=', 'QUEUED')
          .execute();
        assert.equal(queued.length, 10);
      } finally {
        for (const release of releases.splice(0)) release();
        await t.close();
      }
    });

    it('answers each job’s row once, as the group left it, to every claim that took from it', async () => {
      // Migration 0047: row 0 holds the jobs' rows, and each claim names its jobs by id.
      const t = await startTestEngine(database);
      try {
        const { ctx } = t.engine;
        const { jobId, a, b } = await setUp(t);
        const c = (await registerNode(ctx, { name: 'c', slots: 4 })).id;
        const ahead = await submitAhead(t, '1');
        const now = ctx.clock();
        const group = await claimAt(t, now, [a, 2], [b, 2], [c, 3]);
        const taken = group.claims.map((claim) => claim.taken.map((x) => x.job.id));
        assert.deepEqual(taken, [
          [ahead, jobId],
          [jobId, jobId],
          [jobId, jobId, jobId],
        ]);
        const after = await counters(t, jobId);
        assert.deepEqual(after, {
          num_exes: 6,
          tasks_queued: 4,
          tasks_running: 6,
          tasks_completed: 0,
        });
        for (const { taken: list } of group.claims) {
          for (const { job, task, execution } of list) {
            assert.equal(task.job_id, job.id);
            assert.equal(execution.task_id, task.id);
            assert.equal(execution.job_id, job.id);
            if (job.id === jobId) {
              const { num_exes, tasks_queued, tasks_running, tasks_completed } = job;
              assert.deepEqual({ num_exes, tasks_queued, tasks_running, tasks_completed }, after);
            }
          }
        }
        assert.deepEqual(group.completedJobs, [], 'nothing was completed');
      } finally {
        await t.close();
      }
    });

    it('one statement records finishes, moves their counters with those given, and claims into the slots they freed', async () => {
      const t = await startTestEngine(database);
      try {
        const { ctx } = t.engine;
        const { jobId, a, b } = await setUp(t);
        const now = ctx.clock();
        const byA = await claimAt(t, now, [a, 4]);
        const running = byA.claims[0]!.taken.map((x) => x.execution);
        assert.equal(running.length, 4, "a's four slots are full");
        const group = await ctx.db.transaction().execute(async (tx) => {
          // One finish written alone, its counters left to the group (as the lane does when a
          // failure must go first).
          const alone = await completeLiveExecutionsLeavingCounters(
            tx,
            [success(running[0]!.id, a, 1.5)],
            now,
          );
          assert.equal(alone.length, 1);
          return claimGroup(
            tx,
            claims([a, 4]),
            WALK(now),
            [{ jobId, count: 1 }],
            [
              success(running[1]!.id, a, 1.5),
              success(running[2]!.id, a, 1.5),
              // Not b's execution: left to the caller's one-report path, which refuses it.
              success(running[3]!.id, b, 1.5),
            ],
          );
        });
        assert.deepEqual(
          group.finished.map((f) => [f.execution.id, f.execution.state, f.was, f.taskMoved]),
          [
            [running[1]!.id, 'COMPLETED', 'RUNNING', true],
            [running[2]!.id, 'COMPLETED', 'RUNNING', true],
          ],
        );
        assert.equal(group.finished[0]!.execution.cpu_seconds, 1.5);
        assert.equal(group.finished[0]!.execution.ended_at, now);
        assert.equal(
          group.claims[0]!.taken.length,
          3,
          'the claim sees the three slots the finishes before it freed',
        );
        assert.deepEqual(
          group.completedJobs.map((j) => [j.id, j.tasks_completed]),
          [[jobId, 3]],
          "the job's row as the counters left it",
        );
        assert.deepEqual(await counters(t, jobId), {
          num_exes: 7,
          tasks_queued: 3,
          tasks_running: 4,
          tasks_completed: 3,
        });
        const live = await ctx.db
          .selectFrom('executions')
          .select('id')
          .where('node_id', '=', a)
          .where('ended_at', 'is', null)
          .execute();
        assert.equal(live.length, 4, 'a runs three new tasks and the one b reported');
      } finally {
        await t.close();
      }
    });
  });
}
