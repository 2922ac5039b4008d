import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DroverError } from '../../src/domain/errors.js';
import type { EngineContext } from '../../src/engine/context.js';
import type { DroverEvent } from '../../src/engine/events/events.js';
import { applyJobAction, updateJobSettings } from '../../src/engine/jobs/job-actions.js';
import { submitJob, type SubmitJobSpec } from '../../src/engine/jobs/job-submission.js';
import { waitingReasons } from '../../src/engine/jobs/waiting-reasons.js';
import { registerNode } from '../../src/engine/nodes/node-registry.js';
import { dependenciesOf, findJob } from '../../src/store/jobs.js';
import type { JobRow } from '../../src/store/schema.js';
import { listTasks } from '../../src/store/tasks.js';
import { TEST_DATABASES, startTestEngine, type TestEngine } from '../helpers/databases.js';
import { eventually } from '../helpers/eventually.js';

/* Changing the dependencies (and parameters) of a job after submission, in the engine. */

const submit = (ctx: EngineContext, spec: Partial<SubmitJobSpec> = {}): Promise<number> =>
  submitJob(ctx, {
    type: 'command-line',
    user: 'alice',
    parameters: { executable: 'echo' },
    ...spec,
  });

async function job(ctx: EngineContext, id: number): Promise<JobRow> {
  const row = await findJob(ctx.db, id);
  assert.ok(row, `job ${id} exists`);
  return row;
}

async function taskStates(ctx: EngineContext, id: number): Promise<string[]> {
  return (await listTasks(ctx.db, id, { limit: 100, offset: 0 })).rows.map((t) => t.state);
}

async function refused(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof DroverError, `a DroverError, got ${String(error)}`);
    assert.equal(error.code, 'VALIDATION', error.message);
    assert.match(error.message, pattern);
    return true;
  });
}

async function withEngine(
  database: (typeof TEST_DATABASES)[number],
  fn: (ctx: EngineContext, t: TestEngine) => Promise<void>,
): Promise<void> {
  const t = await startTestEngine(database);
  try {
    await fn(t.engine.ctx, t);
  } finally {
    await t.close();
  }
}

for (const database of TEST_DATABASES) {
  describe(`engine: changing dependencies (${database.name})`, () => {
    it('refuses unknown ids, the job itself, and cycles, changing nothing', () =>
      withEngine(database, async (ctx) => {
        const a = await submit(ctx, { name: 'a' });
        const b = await submit(ctx, { name: 'b', dependencies: [a] });
        const c = await submit(ctx, { name: 'c', dependencies: [b] });

        await refused(
          updateJobSettings(ctx, a, { dependencies: [c, 9999, 9998] }),
          /dependencies refer to jobs that do not exist: 9998, 9999/,
        );
        await refused(
          updateJobSettings(ctx, a, { dependencies: [a] }),
          new RegExp(`cannot depend on itself \\(job ${a}\\)`),
        );
        // a → b → a
        await refused(
          updateJobSettings(ctx, a, { dependencies: [b] }),
          new RegExp(`cycle: job ${a} would wait on job ${b}, which waits on job ${a}$`),
        );
        // a → c → b → a, with an innocent id beside it
        const other = await submit(ctx, { name: 'other' });
        await assert.rejects(updateJobSettings(ctx, a, { dependencies: [other, c] }), (e) => {
          assert.ok(e instanceof DroverError);
          assert.equal(
            e.message,
            `dependencies would make a cycle: job ${a} would wait on job ${c}, which waits on job ${b}, which waits on job ${a}`,
          );
          assert.deepEqual(e.details?.cycle, [a, c, b, a]);
          return true;
        });
        // The other settings of a refused change are not written either.
        await refused(updateJobSettings(ctx, a, { name: 'renamed', dependencies: [c] }), /cycle/);
        assert.equal((await job(ctx, a)).name, 'a');
        assert.deepEqual(await dependenciesOf(ctx.db, a), []);
        assert.equal((await job(ctx, a)).state, 'QUEUED');

        // A diamond is no cycle: d waits on b and c, both of which wait on a.
        const d = await submit(ctx, { name: 'd' });
        await updateJobSettings(ctx, d, { dependencies: [b, c, c] });
        assert.deepEqual(await dependenciesOf(ctx.db, d), [b, c]);
        await updateJobSettings(ctx, c, { dependencies: [a, b] });
        assert.deepEqual(await dependenciesOf(ctx.db, c), [a, b]);
      }));

    it('two changes that would each close half of a cycle: one of them is refused', () =>
      withEngine(database, async (ctx) => {
        for (let round = 0; round < 5; round++) {
          const a = await submit(ctx, { name: `a${round}` });
          const b = await submit(ctx, { name: `b${round}` });
          const results = await Promise.allSettled([
            updateJobSettings(ctx, a, { dependencies: [b] }),
            updateJobSettings(ctx, b, { dependencies: [a] }),
          ]);
          assert.deepEqual(
            results.map((r) => r.status).sort(),
            ['fulfilled', 'rejected'],
            `round ${round}`,
          );
          const edges = [
            ...(await dependenciesOf(ctx.db, a)),
            ...(await dependenciesOf(ctx.db, b)),
          ];
          assert.equal(edges.length, 1, `round ${round}: one edge, not a cycle`);
        }
      }));

    it('releases a pending job whose new dependencies are all complete, with its events', () =>
      withEngine(database, async (ctx) => {
        const running = await submit(ctx, { name: 'not done' });
        const done = await submit(ctx, { name: 'done' });
        await applyJobAction(ctx, done, 'complete');
        const waiting = await submit(ctx, { frames: '1-2', dependencies: [running] });
        assert.equal((await job(ctx, waiting)).pend_reason, 'DEPENDENCIES');

        const seen: DroverEvent[] = [];
        const unsubscribe = ctx.bus.subscribe((event) => seen.push(event));
        try {
          await updateJobSettings(ctx, waiting, { dependencies: [done] });
          const row = await job(ctx, waiting);
          assert.equal(row.state, 'QUEUED');
          assert.equal(row.pend_reason, null);
          assert.equal(row.tasks_queued, 2);
          assert.deepEqual(await taskStates(ctx, waiting), ['QUEUED', 'QUEUED']);
          assert.deepEqual(await dependenciesOf(ctx.db, waiting), [done]);
          await eventually(() => {
            const mine = seen.filter((e) => 'jobId' in e && e.jobId === waiting);
            assert.ok(
              mine.some((e) => e.type === 'job.state' && e.from === 'PENDING' && e.to === 'QUEUED'),
              'the job is released',
            );
            assert.ok(
              mine.some(
                (e) => e.type === 'task.state' && e.from === 'PENDING' && e.to === 'QUEUED',
              ),
              'its task is released',
            );
            assert.ok(
              mine.some((e) => e.type === 'job.updated' && e.fields.includes('dependencies')),
              'the change is announced',
            );
          });
        } finally {
          unsubscribe();
        }

        // No dependencies at all releases too.
        const alone = await submit(ctx, { dependencies: [running] });
        await updateJobSettings(ctx, alone, { dependencies: [] });
        assert.equal((await job(ctx, alone)).state, 'QUEUED');
      }));

    it('a released job whose schedule lies ahead waits on the schedule instead', () =>
      withEngine(database, async (ctx, t) => {
        const other = await submit(ctx);
        const id = await submit(ctx, {
          dependencies: [other],
          scheduledAt: t.clock.now + 60_000,
        });
        assert.equal((await job(ctx, id)).pend_reason, 'DEPENDENCIES');
        await updateJobSettings(ctx, id, { dependencies: [] });
        let row = await job(ctx, id);
        assert.equal(row.state, 'PENDING');
        assert.equal(row.pend_reason, 'SCHEDULE');
        // An incomplete dependency comes first again, as at submission.
        await updateJobSettings(ctx, id, { dependencies: [other] });
        row = await job(ctx, id);
        assert.equal(row.pend_reason, 'DEPENDENCIES');
        t.clock.advance(61_000);
        assert.equal((await t.engine.reaper.tick()).released, 0);
        await applyJobAction(ctx, other, 'complete');
        assert.equal((await job(ctx, id)).state, 'QUEUED');
      }));

    it('pends a queued job that gets an incomplete dependency; its completion releases it', () =>
      withEngine(database, async (ctx) => {
        const first = await submit(ctx, { name: 'first' });
        const second = await submit(ctx, { name: 'second', frames: '1-3' });
        await updateJobSettings(ctx, second, { dependencies: [first] });
        const row = await job(ctx, second);
        assert.equal(row.state, 'PENDING');
        assert.equal(row.pend_reason, 'DEPENDENCIES');
        assert.equal(row.tasks_pending, 3);
        assert.equal(row.tasks_queued, 0);
        assert.deepEqual(await taskStates(ctx, second), ['PENDING', 'PENDING', 'PENDING']);
        assert.deepEqual(await waitingReasons(ctx, second), [
          { code: 'DEPENDENCIES_PENDING', message: `waiting for job ${first} to complete` },
        ]);
        await applyJobAction(ctx, first, 'complete');
        const released = await job(ctx, second);
        assert.equal(released.state, 'QUEUED');
        assert.equal(released.tasks_queued, 3);

        // A complete dependency does not pend a queued job.
        const third = await submit(ctx, { name: 'third' });
        await updateJobSettings(ctx, third, { dependencies: [first] });
        assert.equal((await job(ctx, third)).state, 'QUEUED');
      }));

    it('a job with work under way keeps its state; a pended-by-hand job stays pended', () =>
      withEngine(database, async (ctx, t) => {
        const blocker = await submit(ctx, { name: 'blocker', priority: 1 });
        const busy = await submit(ctx, { name: 'busy', frames: '1-2', priority: 90 });
        const node = await registerNode(ctx, { name: 'n1' });
        const taken = await t.engine.dispatcher.tryAcquire(node.id);
        assert.equal(taken?.execution.job_id, busy);
        assert.equal((await job(ctx, busy)).state, 'RUNNING');
        await updateJobSettings(ctx, busy, { dependencies: [blocker] });
        let row = await job(ctx, busy);
        assert.equal(row.state, 'RUNNING');
        assert.equal(row.tasks_running, 1);
        assert.deepEqual(await dependenciesOf(ctx.db, busy), [blocker]);
        // The list counts when the job next waits: a resume sends it to wait on it.
        await applyJobAction(ctx, busy, 'suspend');
        await applyJobAction(ctx, busy, 'resume');
        row = await job(ctx, busy);
        assert.equal(row.state, 'PENDING');
        assert.equal(row.pend_reason, 'DEPENDENCIES');

        const done = await submit(ctx, { name: 'done' });
        await applyJobAction(ctx, done, 'complete');
        const held = await submit(ctx, { initialState: 'PENDING' });
        await updateJobSettings(ctx, held, { dependencies: [blocker] });
        await updateJobSettings(ctx, held, { dependencies: [done] });
        row = await job(ctx, held);
        assert.equal(row.state, 'PENDING');
        assert.equal(row.pend_reason, 'MANUAL');

        // Tasks already suspended or done are not pended with the job.
        const mixed = await submit(ctx, { frames: '1-2' });
        await applyJobAction(ctx, mixed, 'suspend');
        await updateJobSettings(ctx, mixed, { dependencies: [blocker] });
        assert.equal((await job(ctx, mixed)).state, 'SUSPENDED');
      }));

    it('the same list again changes nothing and announces no dependency change', () =>
      withEngine(database, async (ctx) => {
        const a = await submit(ctx, { name: 'a' });
        const b = await submit(ctx, { name: 'b' });
        const waiting = await submit(ctx, { dependencies: [b, a] });
        const before = await job(ctx, waiting);
        const seen: DroverEvent[] = [];
        const unsubscribe = ctx.bus.subscribe((event) => seen.push(event));
        try {
          await updateJobSettings(ctx, waiting, { dependencies: [a, b, a] });
          await updateJobSettings(ctx, waiting, { comment: 'marker' });
          await eventually(() =>
            assert.ok(
              seen.some((e) => e.type === 'job.updated' && e.fields.includes('comment')),
              'the comment change is announced',
            ),
          );
          const updates = seen.filter((e) => e.type === 'job.updated' && e.jobId === waiting);
          assert.ok(
            updates.every((e) => e.type === 'job.updated' && !e.fields.includes('dependencies')),
          );
          assert.ok(!seen.some((e) => e.type === 'job.state'));
        } finally {
          unsubscribe();
        }
        const after = await job(ctx, waiting);
        assert.equal(after.state, 'PENDING');
        assert.equal(after.last_status_change, before.last_status_change);
      }));

    it('parameters change under the job type revision the job is pinned to', () =>
      withEngine(database, async (ctx) => {
        const id = await submit(ctx, { parameters: { executable: 'echo', arguments: ['a'] } });
        await updateJobSettings(ctx, id, {
          parameters: { executable: 'printf', arguments: ['%s', 'b'] },
        });
        assert.deepEqual(JSON.parse((await job(ctx, id)).parameters_json), {
          executable: 'printf',
          arguments: ['%s', 'b'],
        });
        await refused(
          updateJobSettings(ctx, id, { parameters: { executable: 'echo', colour: 'red' } }),
          /unknown parameter "colour"/,
        );
        await refused(updateJobSettings(ctx, id, { parameters: {} }), /"executable" is required/);
        assert.equal(
          JSON.parse((await job(ctx, id)).parameters_json).executable,
          'printf',
          'a refused change leaves the parameters',
        );
      }));
  });
}
