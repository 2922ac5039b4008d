import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import { DroverError } from '../../src/domain/errors.js';
import { claimSingleTaskJob } from '../../src/engine/dispatch/single-task-job-control.js';
import type { Engine } from '../../src/engine/engine.js';
import { completeExecution } from '../../src/engine/executions/execution-reports.js';
import { updateJobSettings } from '../../src/engine/jobs/job-actions.js';
import { submitJob, type SubmitJobSpec } from '../../src/engine/jobs/job-submission.js';
import { waitingReasons } from '../../src/engine/jobs/waiting-reasons.js';
import { createLimit, deleteLimit, getLimit, updateLimit } from '../../src/engine/limits/limits.js';
import { registerNode, type NodeRegistration } from '../../src/engine/nodes/node-registry.js';
import type { ExecutionRow } from '../../src/store/schema.js';
import {
  TEST_DATABASES,
  startTestEngine,
  withRacingReplicas,
  type TestEngine,
} from '../helpers/databases.js';

/*
 * Limits (docs/scheduling.md): a task starts only while every limit its job names has room
 * for it on its node, on both databases, and concurrent claims never take more than a
 * limit's count between them.
 */

const spec = (more: Partial<SubmitJobSpec> = {}): SubmitJobSpec => ({
  type: 'command-line',
  user: 'alice',
  parameters: { executable: 'echo' },
  ...more,
});

async function withEngine(
  database: (typeof TEST_DATABASES)[number],
  fn: (t: TestEngine, f: Helpers) => Promise<void>,
): Promise<void> {
  const t = await startTestEngine(database);
  try {
    await fn(t, helpers(t.engine));
  } finally {
    await t.close();
  }
}

type Helpers = ReturnType<typeof helpers>;

function helpers(engine: Engine) {
  const ctx = engine.ctx;
  return {
    submit: (more: Partial<SubmitJobSpec> = {}) => submitJob(ctx, spec(more)),
    node: async (name: string, r: Partial<NodeRegistration> = {}) =>
      (await registerNode(ctx, { name, ...r })).id,
    take: async (nodeId: number, e: Engine = engine) =>
      (await e.dispatcher.tryAcquire(nodeId))?.execution,
    complete: (e: ExecutionRow) => completeExecution(ctx, engine.settings, e.id, e.node_id, 0),
    reasons: async (jobId: number) => await waitingReasons(ctx, jobId),
    /** Running tasks of the jobs naming the limit, counted straight from the tasks. */
    running: async (name: string) => {
      const { rows } = await sql<{ n: number | string }>`
        select count(*) as n from tasks t join job_limits l on l.job_id = t.job_id
        where l.limit_name = ${name} and t.state = 'RUNNING'`.execute(ctx.db);
      return Number(rows[0]!.n);
    },
  };
}

for (const database of TEST_DATABASES) {
  const db = database.name;

  describe(`limits (${db})`, () => {
    it('a per-task limit lets only its count of tasks run, across the jobs naming it', () =>
      withEngine(database, async (t, f) => {
        await createLimit(t.engine.ctx, { name: 'nuke', maxCount: 2 });
        const a = await f.submit({ frames: '1-2', limits: ['nuke'] });
        const b = await f.submit({ frames: '1-2', limits: ['Nuke'] });
        const free = await f.submit({ priority: 10 });
        const nodes = [await f.node('n1'), await f.node('n2'), await f.node('n3')];
        const first = await f.take(nodes[0]!);
        const second = await f.take(nodes[1]!);
        assert.equal(first?.job_id, a);
        assert.equal(second?.job_id, a);
        // Job b waits for the licence; the node takes the job without limits instead.
        assert.equal((await f.take(nodes[2]!))?.job_id, free);
        const reasons = await f.reasons(b);
        assert.deepEqual(
          reasons.map((r) => r.message),
          ['waiting for licence nuke (2/2 in use)'],
        );
        assert.equal((await getLimit(t.engine.ctx, 'nuke')).inUse, 2);
        await f.complete(first!);
        const n4 = await f.node('n4');
        assert.equal((await f.take(n4))?.job_id, b);
        assert.equal(await f.running('nuke'), 2);
      }));

    it('a claim of many tasks takes no more than the room left', () =>
      withEngine(database, async (t, f) => {
        await createLimit(t.engine.ctx, { name: 'maya', maxCount: 3 });
        await f.submit({ frames: '1-10', limits: ['maya'] });
        const big = await f.node('big', { slots: 8 });
        const taken = await t.engine.dispatcher.tryClaim(big, { max: 8 });
        assert.equal(taken.length, 3);
        assert.equal(await f.running('maya'), 3);
      }));

    it('a per-machine limit counts nodes: one node may run many tasks of it', () =>
      withEngine(database, async (t, f) => {
        await createLimit(t.engine.ctx, { name: 'houdini', maxCount: 1, per: 'MACHINE' });
        const job = await f.submit({ frames: '1-4', limits: ['houdini'] });
        const n1 = await f.node('n1', { slots: 2 });
        const n2 = await f.node('n2', { slots: 2 });
        assert.equal((await f.take(n1))?.job_id, job);
        assert.equal((await f.take(n2))?.job_id, undefined);
        assert.equal((await f.take(n1))?.job_id, job);
        assert.deepEqual(
          (await f.reasons(job)).map((r) => r.message),
          ['waiting for licence houdini (1/1 machines in use)'],
        );
      }));

    it("a limit's allow list keeps its jobs off other nodes; a deny list off those listed", () =>
      withEngine(database, async (t, f) => {
        await createLimit(t.engine.ctx, { name: 'arnold', maxCount: 10, allowList: ['n2'] });
        const job = await f.submit({ limits: ['arnold'] });
        const n1 = await f.node('n1');
        assert.deepEqual(
          (await f.reasons(job)).map((r) => r.code),
          ['LIMIT_NO_NODE'],
        );
        assert.equal(await f.take(n1), undefined);
        const n2 = await f.node('n2');
        assert.equal((await f.take(n2))?.job_id, job);
        await updateLimit(t.engine.ctx, 'arnold', { denyList: ['n3'] });
        const other = await f.submit({ limits: ['arnold'] });
        const n3 = await f.node('n3');
        assert.equal(await f.take(n3), undefined);
        assert.equal((await f.take(n1))?.job_id, other);
      }));

    it('an unknown limit is refused, unless kept (Deadline), and then the job waits for it', () =>
      withEngine(database, async (t, f) => {
        await assert.rejects(
          f.submit({ limits: ['vray'] }),
          (e: unknown) => e instanceof DroverError && e.code === 'VALIDATION',
        );
        const job = await f.submit({ limits: ['vray'], acceptUnknownLimits: true });
        const n1 = await f.node('n1');
        assert.equal(await f.take(n1), undefined);
        assert.deepEqual(
          (await f.reasons(job)).map((r) => r.code),
          ['LIMIT_MISSING'],
        );
        await createLimit(t.engine.ctx, { name: 'vray', maxCount: 1 });
        assert.equal((await f.take(n1))?.job_id, job);
        await deleteLimit(t.engine.ctx, 'vray');
        const again = await f.submit({ limits: ['vray'], acceptUnknownLimits: true });
        const n2 = await f.node('n2');
        assert.equal(await f.take(n2), undefined, 'a deleted limit holds its jobs back');
        await updateJobSettings(t.engine.ctx, again, { limits: [] });
        assert.equal((await f.take(n2))?.job_id, again);
      }));

    it("UFDL's claim of a named job refuses a job that takes limits", () =>
      withEngine(database, async (t, f) => {
        await createLimit(t.engine.ctx, { name: 'nuke', maxCount: 0 });
        const job = await f.submit({ limits: ['nuke'] });
        const n1 = await f.node('n1');
        const result = await claimSingleTaskJob(t.engine.ctx, t.engine.settings, job, n1);
        assert.equal(result.kind, 'refused');
        assert.equal(await f.running('nuke'), 0);
      }));

    it('20 concurrent acquirers never take more than the count', () =>
      withEngine(database, async (t, f) => {
        await createLimit(t.engine.ctx, { name: 'nuke', maxCount: 5 });
        for (let i = 0; i < 4; i++) await f.submit({ frames: '1-20', limits: ['nuke'] });
        // PostgreSQL: four replicas, each with its own transactions, claim at once.
        await withRacingReplicas(t, async (replicas) => {
          const nodes: number[] = [];
          for (let i = 0; i < 20; i++) nodes.push(await f.node(`n${i}`));
          const held: ExecutionRow[] = [];
          for (let round = 0; round < 6; round++) {
            const got = await Promise.all(
              nodes.map((n, i) => f.take(n, replicas[i % replicas.length])),
            );
            held.push(...got.filter((e): e is ExecutionRow => e !== undefined));
            assert.ok(held.length <= 5, `round ${round}: ${held.length} tasks hold nuke (max 5)`);
            assert.equal(await f.running('nuke'), held.length);
            // Free two licences, so that each round races for room again.
            if (held.length === 5) for (const e of held.splice(0, 2)) await f.complete(e);
          }
        });
      }));
  });
}
