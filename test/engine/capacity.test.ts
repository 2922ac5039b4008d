import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import { claimSingleTaskJob } from '../../src/engine/dispatch/single-task-job-control.js';
import type { Engine } from '../../src/engine/engine.js';
import { completeExecution } from '../../src/engine/executions/execution-reports.js';
import { submitJob, type SubmitJobSpec } from '../../src/engine/jobs/job-submission.js';
import { waitingReasons } from '../../src/engine/jobs/waiting-reasons.js';
import { registerNode, type NodeRegistration } from '../../src/engine/nodes/node-registry.js';
import type { ExecutionRow } from '../../src/store/schema.js';
import {
  TEST_DATABASES,
  startTestEngine,
  withRacingReplicas,
  type TestEngine,
} from '../helpers/databases.js';

/*
 * Capacity (docs/scheduling.md): a node runs tasks of jobs asking cpus, memory or gpus
 * while the sum of their asks fits it, and gives each task asking gpus its own indexes,
 * never one another live task holds, however many claims race for them.
 */

const spec = (more: Partial<SubmitJobSpec> = {}): SubmitJobSpec => ({
  type: 'command-line',
  user: 'alice',
  parameters: { executable: 'echo' },
  ...more,
});

async function withEngine(
  database: (typeof TEST_DATABASES)[number],
  fn: (t: TestEngine, f: ReturnType<typeof helpers>) => Promise<void>,
): Promise<void> {
  const t = await startTestEngine(database);
  try {
    await fn(t, helpers(t.engine));
  } finally {
    await t.close();
  }
}

function helpers(engine: Engine) {
  const ctx = engine.ctx;
  return {
    submit: (more: Partial<SubmitJobSpec> = {}) => submitJob(ctx, spec(more)),
    node: async (name: string, r: Partial<NodeRegistration> = {}) =>
      (await registerNode(ctx, { name, cpus: 16, mem: 65536, gpus: 0, ...r })).id,
    claim: async (nodeId: number, max: number, e: Engine = engine) =>
      (await e.dispatcher.tryClaim(nodeId, { max })).map((a) => a.execution),
    complete: (e: ExecutionRow) => completeExecution(ctx, engine.settings, e.id, e.node_id, 0),
    /** The node's live executions and the GPU indexes each holds, from the table. */
    live: async (nodeId: number) => {
      const { rows } = await sql<{ job_id: number; gpu_ids: string }>`
        select job_id, gpu_ids from executions
        where node_id = ${nodeId} and ended_at is null`.execute(ctx.db);
      return rows.map((r) => ({ jobId: Number(r.job_id), gpus: r.gpu_ids }));
    },
  };
}

for (const database of TEST_DATABASES) {
  const db = database.name;

  describe(`capacity (${db})`, () => {
    it('a 16-cpu node runs four 4-cpu tasks, and a 16-cpu task only once it is empty', () =>
      withEngine(database, async (t, f) => {
        const small = await f.submit({ frames: '1-8', priority: 10, resources: { cpus: 4 } });
        const big = await f.submit({ frames: '1', priority: 5, resources: { cpus: 16 } });
        const node = await f.node('n1', { slots: 16 });
        const first = await f.claim(node, 16);
        assert.deepEqual(
          first.map((e) => e.job_id),
          [small, small, small, small],
        );
        assert.deepEqual(await f.claim(node, 16), [], 'a fifth 4-cpu task does not fit');
        // Three done: 12 cpus free, still not 16. The 4-cpu job fills them again first.
        for (const e of first.slice(0, 3)) await f.complete(e);
        const refill = await f.claim(node, 16);
        assert.deepEqual(
          refill.map((e) => e.job_id),
          [small, small, small],
        );
        assert.deepEqual(
          (await waitingReasons(t.engine.ctx, big)).map((r) => r.code),
          ['CAPACITY_FULL'],
        );
        for (const e of [first[3]!, ...refill]) await f.complete(e);
        // One 4-cpu task left and the node empty: it and the big job both fit; priority first.
        const last = await f.claim(node, 16);
        assert.deepEqual(
          last.map((e) => e.job_id),
          [small],
        );
        assert.deepEqual(await f.claim(node, 16), [], '16 cpus do not fit beside 4');
        await f.complete(last[0]!);
        const whole = await f.claim(node, 16);
        assert.deepEqual(
          whole.map((e) => e.job_id),
          [big],
        );
        assert.deepEqual(await f.live(node), [{ jobId: big, gpus: '' }]);
      }));

    it('memory is summed too, and a job asking nothing runs beside by slots alone', () =>
      withEngine(database, async (_t, f) => {
        const heavy = await f.submit({ frames: '1-4', priority: 10, resources: { mem: 30000 } });
        const plain = await f.submit({ frames: '1-4', priority: 1 });
        const node = await f.node('n1', { slots: 4 });
        const got = await f.claim(node, 4);
        assert.deepEqual(
          got.map((e) => e.job_id),
          [heavy, heavy, plain, plain],
        );
      }));

    it("UFDL's claim of a named job counts capacity and gives GPU indexes too", () =>
      withEngine(database, async (t, f) => {
        const node = await f.node('n1', { gpus: 2, slots: 4 });
        const held = await f.claim(node, 1);
        assert.equal(held.length, 0);
        const a = await f.submit({ resources: { gpus: 1 } });
        const b = await f.submit({ resources: { gpus: 1 } });
        const c = await f.submit({ resources: { gpus: 1 } });
        const claim = (job: number) =>
          claimSingleTaskJob(t.engine.ctx, t.engine.settings, job, node);
        assert.equal((await claim(a)).kind, 'acquired');
        assert.equal((await claim(b)).kind, 'acquired');
        const third = await claim(c);
        assert.equal(third.kind, 'refused');
        assert.deepEqual((await f.live(node)).map((l) => l.gpus).sort(), ['0', '1']);
      }));

    it('GPU indexes are never given twice, however many claims race for them', () =>
      withEngine(database, async (t, f) => {
        for (let i = 0; i < 3; i++) await f.submit({ frames: '1-30', resources: { gpus: 1 } });
        await f.submit({ frames: '1-10', priority: 10, resources: { gpus: 2 } });
        // PostgreSQL: four replicas, each with its own transactions, claim at once.
        await withRacingReplicas(t, async (replicas) => {
          const nodes: number[] = [];
          for (let i = 0; i < 4; i++) nodes.push(await f.node(`n${i}`, { gpus: 4, slots: 8 }));
          let handedOut = 0;
          for (let round = 0; round < 6; round++) {
            // Five claims per node at once, spread over the replicas.
            const got = await Promise.all(
              Array.from({ length: 20 }, (_, i) =>
                f.claim(nodes[i % 4]!, 1 + (i % 3), replicas[i % replicas.length]),
              ),
            );
            handedOut += got.flat().length;
            for (const node of nodes) {
              const held = (await f.live(node)).flatMap((l) =>
                l.gpus === '' ? [] : l.gpus.split(',').map(Number),
              );
              assert.equal(new Set(held).size, held.length, `round ${round}: ${held.join(',')}`);
              assert.ok(
                held.every((g) => g >= 0 && g < 4),
                `round ${round}: ${held.join(',')}`,
              );
            }
            // Free some, so that each round races for freed indexes again.
            for (const [i, e] of got.flat().entries()) if (i % 2 === 0) await f.complete(e);
          }
          assert.ok(handedOut > 16, `only ${handedOut} tasks handed out`);
        });
      }));
  });
}
