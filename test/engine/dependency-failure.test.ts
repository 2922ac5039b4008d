import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { failReportedExecution } from '../../src/engine/executions/execution-reports.js';
import { applyJobAction, updateJobSettings } from '../../src/engine/jobs/job-actions.js';
import { submitJob, type SubmitJobSpec } from '../../src/engine/jobs/job-submission.js';
import { waitingReasons } from '../../src/engine/jobs/waiting-reasons.js';
import { registerNode } from '../../src/engine/nodes/node-registry.js';
import { findJob } from '../../src/store/jobs.js';
import { listTasks } from '../../src/store/tasks.js';
import { TEST_DATABASES, startTestEngine, type TestEngine } from '../helpers/databases.js';

/*
 * What a job does when a job it depends on fails or is canceled (src/domain/
 * dependency-failure.ts): CANCEL (the default), WAIT or RUN, and the state of a parent whose
 * children fail.
 */

const echo = { type: 'command-line', user: 'alice', parameters: { executable: 'echo' } };

function helpers(t: TestEngine) {
  const ctx = t.engine.ctx;
  const submit = (spec: Partial<SubmitJobSpec> = {}) => submitJob(ctx, { ...echo, ...spec });
  const job = async (id: number) => {
    const row = await findJob(ctx.db, id);
    assert.ok(row, `job ${id} exists`);
    return row;
  };
  const state = async (id: number) => (await job(id)).state;
  const reasons = async (id: number) => await waitingReasons(ctx, id);
  return { ctx, submit, job, state, reasons };
}

for (const database of TEST_DATABASES) {
  describe(`dependency failure policy (${database.name})`, () => {
    it('CANCEL (the default): a failed run cancels its dependents, and theirs in turn', async () => {
      const t = await startTestEngine(database);
      try {
        const { ctx, submit, job, state, reasons } = helpers(t);
        const a = await submit({ maxTries: 1 });
        const other = await submit();
        const b = await submit({ dependencies: [a] });
        const c = await submit({ dependencies: [b] });
        const both = await submit({ dependencies: [a, other] });
        const unrelated = await submit({ dependencies: [other] });
        assert.equal((await job(b)).on_dependency_failure, 'CANCEL');

        // A real execution fails its only try: the job FAILED, by the worker's report.
        const node = await registerNode(ctx, { name: 'n1' });
        const claim = await t.engine.dispatcher.tryAcquire(node.id);
        assert.equal(claim?.execution.job_id, a);
        await failReportedExecution(ctx, claim.execution.id, node.id, {
          message: 'exit 1',
          exitCode: 1,
        });
        assert.equal(await state(a), 'FAILED');

        for (const id of [b, c, both]) {
          const row = await job(id);
          assert.equal(row.state, 'CANCELED', `job ${id} follows its failed dependency`);
          assert.equal(row.tasks_canceled, 1);
          assert.equal(row.tasks_pending, 0);
        }
        assert.match((await job(b)).error_message ?? '', new RegExp(`job ${a} .*failed`));
        assert.match((await job(c)).error_message ?? '', new RegExp(`job ${b} .*was canceled`));
        const [why] = await reasons(c);
        assert.equal(why?.code, 'NOT_QUEUED');
        assert.match(why?.message ?? '', new RegExp(`CANCELED .*job ${b}`));
        assert.equal(await state(unrelated), 'PENDING', 'its dependency did not fail');

        // A cancel by hand is a failed dependency too.
        const d = await submit();
        const onD = await submit({ dependencies: [d] });
        await applyJobAction(ctx, d, 'cancel');
        assert.equal(await state(onD), 'CANCELED');

        // Submitted after its dependency failed: canceled at once.
        const late = await submit({ dependencies: [a] });
        assert.equal(await state(late), 'CANCELED');
      } finally {
        await t.close();
      }
    });

    it('WAIT: the dependent waits, says why, and runs once the dependency is retried and completes', async () => {
      const t = await startTestEngine(database);
      try {
        const { ctx, submit, state, reasons } = helpers(t);
        const a = await submit();
        const b = await submit({ dependencies: [a], onDependencyFailure: 'WAIT' });
        await applyJobAction(ctx, a, 'fail');
        assert.equal(await state(b), 'PENDING');
        const why = await reasons(b);
        assert.deepEqual(
          why.map((r) => r.code),
          ['DEPENDENCY_FAILED'],
        );
        assert.match(why[0]!.message, new RegExp(`job ${a} FAILED.*WAIT`));
        await t.engine.reaper.tick();
        assert.equal(await state(b), 'PENDING', 'a reaper tick changes nothing');

        await applyJobAction(ctx, a, 'requeue');
        assert.deepEqual(
          (await reasons(b)).map((r) => r.code),
          ['DEPENDENCIES_PENDING'],
        );
        await applyJobAction(ctx, a, 'complete');
        assert.equal(await state(b), 'QUEUED');
      } finally {
        await t.close();
      }
    });

    it('RUN: an ended dependency counts as met, whatever its end', async () => {
      const t = await startTestEngine(database);
      try {
        const { ctx, submit, state, reasons } = helpers(t);
        const a = await submit();
        const other = await submit();
        const b = await submit({ dependencies: [a, other], onDependencyFailure: 'RUN' });
        await applyJobAction(ctx, a, 'fail');
        assert.equal(await state(b), 'PENDING', 'still waiting on the other');
        const why = await reasons(b);
        assert.deepEqual(
          why.map((r) => [r.code, r.message]),
          [['DEPENDENCIES_PENDING', `waiting for job ${other} to complete`]],
        );
        await applyJobAction(ctx, other, 'cancel');
        assert.equal(await state(b), 'QUEUED');
        const tasks = await listTasks(ctx.db, b, { limit: 10, offset: 0 });
        assert.deepEqual(
          tasks.rows.map((r) => r.state),
          ['QUEUED'],
        );
        // Submitted on a failed job: queued at once.
        assert.equal(
          await state(await submit({ dependencies: [a], onDependencyFailure: 'RUN' })),
          'QUEUED',
        );
      } finally {
        await t.close();
      }
    });

    it('a new policy, or a resume, applies it to a job already waiting on a failed one', async () => {
      const t = await startTestEngine(database);
      try {
        const { ctx, submit, state } = helpers(t);
        const a = await submit();
        const toRun = await submit({ dependencies: [a], onDependencyFailure: 'WAIT' });
        const toCancel = await submit({ dependencies: [a], onDependencyFailure: 'WAIT' });
        const suspended = await submit({ dependencies: [a] });
        await applyJobAction(ctx, suspended, 'suspend');
        await applyJobAction(ctx, a, 'fail');
        assert.equal(await state(suspended), 'SUSPENDED', 'a suspended job is left as it is');

        await updateJobSettings(ctx, toRun, { onDependencyFailure: 'RUN' });
        assert.equal(await state(toRun), 'QUEUED');
        await updateJobSettings(ctx, toCancel, { onDependencyFailure: 'CANCEL' });
        assert.equal(await state(toCancel), 'CANCELED');
        await applyJobAction(ctx, suspended, 'resume');
        assert.equal(await state(suspended), 'CANCELED');

        await assert.rejects(
          updateJobSettings(ctx, toRun, { onDependencyFailure: 'LATER' }),
          /onDependencyFailure must be one of CANCEL, WAIT, RUN/,
        );
        await assert.rejects(
          submit({ dependencies: [a], onDependencyFailure: 'later' as never }),
          /onDependencyFailure must be one of/,
        );
      } finally {
        await t.close();
      }
    });

    it("a parent follows its children: RUNNING while a failed child's siblings carry on", async () => {
      const t = await startTestEngine(database);
      try {
        const { ctx, submit, state, job } = helpers(t);
        const child = (name: string, after: string[]) => ({
          name,
          after,
          spec: { type: 'command-line', parameters: { executable: 'echo' } },
        });
        const family = (onDependencyFailure?: 'WAIT') =>
          submit({
            type: 'command-line',
            children: [child('render', []), child('encode', ['render']), child('preview', [])],
            ...(onDependencyFailure ? { onDependencyFailure } : {}),
          });
        const kids = async (parent: number) => {
          const rows = await ctx.db
            .selectFrom('jobs')
            .select(['id', 'child_name'])
            .where('parent_id', '=', parent)
            .execute();
          return Object.fromEntries(rows.map((r) => [r.child_name, Number(r.id)]));
        };

        const p = await family();
        const k = await kids(p);
        await applyJobAction(ctx, k.render!, 'fail');
        assert.equal(await state(k.encode!), 'CANCELED');
        assert.equal(await state(p), 'RUNNING', 'preview is still queued');
        await applyJobAction(ctx, k.preview!, 'complete');
        assert.equal(await state(p), 'FAILED');
        assert.match((await job(p)).error_message ?? '', /render/);

        // WAIT: the step after the failed one waits; the parent is FAILED once nothing moves,
        // and a retry of the step takes the family to the end.
        const w = await family('WAIT');
        const kw = await kids(w);
        assert.equal((await job(kw.encode!)).on_dependency_failure, 'WAIT');
        await applyJobAction(ctx, kw.render!, 'fail');
        assert.equal(await state(kw.encode!), 'PENDING');
        assert.equal(await state(w), 'RUNNING');
        await applyJobAction(ctx, kw.preview!, 'complete');
        assert.equal(await state(w), 'FAILED');
        await applyJobAction(ctx, kw.render!, 'requeue');
        assert.equal(await state(w), 'RUNNING');
        await applyJobAction(ctx, kw.render!, 'complete');
        assert.equal(await state(kw.encode!), 'QUEUED');
        await applyJobAction(ctx, kw.encode!, 'complete');
        assert.equal(await state(w), 'COMPLETED');
      } finally {
        await t.close();
      }
    });
  });
}
