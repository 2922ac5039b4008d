/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import { expectError, expectStatus, register, submit } from './support.js';

/*
 * Session affinity (docs/scheduling.md#session-affinity): a node names the jobs whose
 * sessions it holds, in the single-task acquire (`?prefer=`) and in the batched claim
 * (`prefer`), and gets their queued tasks (or their steps') ahead of older jobs of the same
 * priority, never ahead of a job of a higher priority; a claim naming none keeps the
 * ordinary order. Each test works in its own pool, so earlier tests' jobs stay out of it.
 */

/** Two steps without a dependency between them, so both are ready at once. */
const TWO_STEPS = {
  specificationVersion: 'jobtemplate-2023-09',
  name: 'Affinity',
  steps: ['First', 'Second'].map((name) => ({
    name,
    parameterSpace: {
      taskParameterDefinitions: [{ name: 'Frame', type: 'INT', range: '1-2' }],
    },
    script: { actions: { onRun: { command: 'echo', args: ['{{Task.Param.Frame}}'] } } },
  })),
};

for (const database of TEST_DATABASES) {
  describe(`native API: session affinity (${database.name})`, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(database);
    });
    after(async () => {
      await t?.close();
    });

    /** The single-task acquire; the job id of its order, or undefined on 204. */
    async function acquireJob(nodeId: number, prefer: number[] = []): Promise<number | undefined> {
      const query = prefer.map((id) => `&prefer=${id}`).join('');
      const res = await t.request('POST', `/api/v1/nodes/${nodeId}/acquire?wait=0${query}`);
      if (res.status === 204) return undefined;
      return expectStatus(res, 200, 'acquire').body.job.id;
    }

    /** The batched claim; the job id of each order, in order. */
    async function claimJobs(nodeId: number, max: number, prefer?: number[]): Promise<number[]> {
      const res = await t.request('POST', `/api/v1/nodes/${nodeId}/claims`, {
        max,
        start: true,
        ...(prefer ? { prefer } : {}),
      });
      return (expectStatus(res, 200, 'claim').body.orders as any[]).map((o) => o.job.id);
    }

    /** Jobs of three tasks each in `pool`, submitted in order (older first). */
    async function jobs(pool: string, priorities: number[]): Promise<number[]> {
      const ids: number[] = [];
      for (const priority of priorities) {
        ids.push((await submit(t, { pool, priority, frames: '1-3' })).id);
      }
      return ids;
    }

    const node = async (name: string, pool: string, slots = 16) =>
      (await register(t, name, { pools: [pool], slots })).id as number;

    it("single acquire: a held job's task goes ahead of an older job of the same priority", async () => {
      const [older, held] = await jobs('one', [50, 50]);
      const n = await node('one-a', 'one');
      assert.equal(await acquireJob(n), older, 'no preference: the older job first');
      assert.equal(await acquireJob(n, [held!]), held);
      assert.equal(await acquireJob(n, [held!]), held);
      assert.equal(await acquireJob(n), older, 'no preference again: the ordinary order');
    });

    it('single acquire: a job of a higher priority still comes first', async () => {
      const [held, higher] = await jobs('two', [50, 60]);
      const n = await node('two-a', 'two');
      for (let i = 0; i < 3; i++) assert.equal(await acquireJob(n, [held!]), higher);
      // The higher job has nothing left queued: the held job is next.
      assert.equal(await acquireJob(n, [held!]), held);
    });

    it('batched claim: the held job first, then the ordinary order; never over a higher priority', async () => {
      const [older, held, higher] = await jobs('three', [50, 50, 60]);
      const n = await node('three-a', 'three');
      // Three of the higher job, then the held job's three before the older job.
      assert.deepEqual(await claimJobs(n, 7, [held!]), [
        higher,
        higher,
        higher,
        held,
        held,
        held,
        older,
      ]);
      const [older2, held2] = await jobs('three', [50, 50]);
      assert.deepEqual(await claimJobs(n, 1, [held2!]), [held2]);
      assert.deepEqual(await claimJobs(n, 1), [older!], 'no preference: the oldest first');
      assert.deepEqual(await claimJobs(n, 1, []), [older!], 'an empty list prefers nothing');
      assert.deepEqual(await claimJobs(n, 3), [older2, older2, older2]);
    });

    it("a held OpenJD job's steps go first, the step it is at before the others", async () => {
      const [older] = await jobs('four', [50]);
      const res = await t.request('POST', '/api/v1/jobs', {
        template: TWO_STEPS,
        pool: 'four',
        priority: 50,
      });
      const parent = expectStatus(res, 201, 'submit template').body.id as number;
      const steps = expectStatus(await t.request('GET', `/api/v1/jobs?parent=${parent}`), 200).body
        .items as any[];
      const first = steps.find((s) => s.childName === 'First').id as number;
      const second = steps.find((s) => s.childName === 'Second').id as number;
      const n = await node('four-a', 'four');
      // The job named: its steps in their own order, ahead of the older job.
      assert.equal(await acquireJob(n, [parent]), first);
      // The step named before the job: that step first, though the other is older.
      assert.deepEqual(await claimJobs(n, 2, [second, parent]), [second, second]);
      assert.deepEqual(await claimJobs(n, 3, [parent]), [first, older!, older!]);
    });

    it('claims of several nodes in one transaction each get their own held job', async () => {
      const held = await jobs('five', [50, 50, 50, 50]);
      const nodes: number[] = [];
      for (let i = 0; i < 4; i++) nodes.push(await node(`five-${i}`, 'five'));
      // Sent at once: the write lane groups them (PostgreSQL: one call of drover_claim).
      for (let round = 0; round < 3; round++) {
        const got = await Promise.all(
          nodes.map((n, i) =>
            round % 2 === 0 ? claimJobs(n, 1, [held[3 - i]!]) : acquireJob(n, [held[3 - i]!]),
          ),
        );
        assert.deepEqual(
          got.map((g) => (Array.isArray(g) ? g[0] : g)),
          [...held].reverse(),
        );
      }
    });

    it('refuses a bad preference with 400 on both paths', async () => {
      const n = await node('six-a', 'six');
      const many = Array.from({ length: 33 }, (_, i) => i + 1);
      for (const body of [{ prefer: many }, { prefer: [0] }, { prefer: ['x'] }, { prefer: {} }]) {
        expectError(
          await t.request('POST', `/api/v1/nodes/${n}/claims`, { max: 1, ...body }),
          400,
          undefined,
          JSON.stringify(body),
        );
      }
      for (const query of [many.map((id) => `prefer=${id}`).join('&'), 'prefer=0', 'prefer=x']) {
        expectError(
          await t.request('POST', `/api/v1/nodes/${n}/acquire?${query}`),
          400,
          undefined,
          query.slice(0, 40),
        );
      }
      // A job that does not exist is no error: it is simply not there to prefer.
      assert.deepEqual(await claimJobs(n, 1, [999_999]), []);
    });
  });
}
