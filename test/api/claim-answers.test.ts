/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import { ClaimAnswer } from '../../src/api/native/claim-answers.js';
import { wholeOrders } from '../../src/worker/work-order.js';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import { expectStatus, register, submit } from './support.js';

/*
 * A claim's answer is written in parts, each job's text once (claim-answers.ts). It must be
 * the text the route's own schema would have written: the answers are compared, byte for
 * byte, with fast-json-stringify's serializer of the whole answer's schema.
 */

const wholeAnswer = (
  SerializerSelector() as unknown as (
    externals: unknown,
    options: unknown,
  ) => (route: { schema: unknown }) => (value: unknown) => string
)(
  undefined,
  undefined,
)({ schema: ClaimAnswer });

for (const database of TEST_DATABASES) {
  describe(`claim answers (${database.name})`, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(database);
    });
    after(async () => {
      await t?.close();
    });

    async function claimText(nodeId: number, body: Record<string, unknown>) {
      const res = await fetch(`${t.url}/api/v1/nodes/${nodeId}/claims`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const text = await res.text();
      assert.equal(res.status, 200, text);
      assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
      return text;
    }

    it("is the text the answer's schema writes, with jobs shared by several orders", async () => {
      expectStatus(
        await t.request('PUT', '/api/v1/pools/render/path-mapping-rules', {
          version: 'pathmapping-1.0',
          path_mapping_rules: [
            { source_path_format: 'POSIX', source_path: '/projects', destination_path: '/mnt/p' },
          ],
        }),
        200,
        'rules',
      );
      const mapped = await submit(t, { name: 'mapped', pool: 'render', frames: '1-3' });
      const plain = await submit(t, { name: 'plain', frames: '1-3' });
      const node = await register(t, 'answers-node', { slots: 10, pools: ['render', ''] });

      const first = await claimText(node.id, { max: 10, start: true });
      const taken = JSON.parse(first);
      assert.equal(first, wholeAnswer(taken));
      assert.equal(taken.orders.length, 6);
      const ofJob = (id: number) => taken.orders.filter((o: any) => o.job.id === id);
      for (const job of [mapped, plain]) {
        const orders = ofJob(job.id);
        assert.equal(orders.length, 3, `three orders of job ${job.id}`);
        for (const o of orders) assert.deepEqual(o.job, orders[0].job);
      }
      assert.deepEqual(
        ofJob(mapped.id).map((o: any) => o.pathMappingRules?.length),
        [1, 1, 1],
      );
      assert.deepEqual(
        ofJob(plain.id).map((o: any) => o.pathMappingRules),
        [undefined, undefined, undefined],
      );
      assert.ok(taken.leaseMs > 0 && taken.waitedMs >= 0);

      // Finishes carried by a claim that finds nothing: results, and no lease fields.
      const finishes = taken.orders.map((o: any) => ({
        executionId: o.execution.id,
        success: true,
        exitCode: 0,
      }));
      const second = await claimText(node.id, { max: 10, finishes });
      const ended = JSON.parse(second);
      assert.equal(second, wholeAnswer(ended));
      assert.deepEqual(ended.orders, []);
      assert.deepEqual(
        ended.results.map((r: any) => r.status),
        finishes.map(() => 200),
      );
      assert.equal(ended.leaseMs, undefined);
      assert.equal(await claimText(node.id, { max: 1 }), '{"orders":[]}');
    });

    it('with jobsOnce, writes each job in its first order only', async () => {
      const mapped = await submit(t, { name: 'once-mapped', pool: 'render', frames: '1-3' });
      const plain = await submit(t, { name: 'once-plain', frames: '1-2' });
      const node = await register(t, 'once-node', { slots: 10, pools: ['render', ''] });

      const text = await claimText(node.id, { max: 10, start: true, jobsOnce: true });
      const taken = JSON.parse(text);
      assert.equal(text, wholeAnswer(taken));
      assert.equal(taken.orders.length, 5);
      for (const job of [mapped, plain]) {
        const orders = taken.orders.filter((o: any) => o.task.jobId === job.id);
        assert.equal(orders.length, job.id === mapped.id ? 3 : 2);
        assert.equal(orders[0].job.id, job.id, 'the first order of a job carries it');
        assert.ok(orders[0].jobType.name);
        for (const later of orders.slice(1)) {
          assert.deepEqual(Object.keys(later), ['execution', 'task'], 'later orders do not');
        }
      }
      assert.equal(
        taken.orders.find((o: any) => o.job?.id === mapped.id).pathMappingRules.length,
        1,
      );
      // The worker makes each order whole again: every order of a job has that job's parts.
      const whole = wholeOrders(taken.orders);
      assert.deepEqual(
        whole.map((o) => [o.execution.id, o.job.id, o.jobType.name, o.pathMappingRules?.length]),
        taken.orders.map((o: any) => {
          const first = taken.orders.find((f: any) => f.job?.id === o.task.jobId);
          return [o.execution.id, o.task.jobId, first.jobType.name, first.pathMappingRules?.length];
        }),
      );
      assert.throws(
        () => wholeOrders(taken.orders.filter((o: any) => o.job === undefined)),
        /has an order of job \d+ \(execution \d+\) without that job/,
      );

      // A job claimed in two answers is written in full in each.
      const more = await submit(t, { name: 'once-again', frames: '1-2' });
      const a = JSON.parse(await claimText(node.id, { max: 1, jobsOnce: true }));
      const b = JSON.parse(await claimText(node.id, { max: 1, jobsOnce: true }));
      assert.deepEqual([a.orders[0].job.id, b.orders[0].job.id], [more.id, more.id]);
    });
  });
}
