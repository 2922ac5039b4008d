import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { abortedOnFailure, HangUp } from '../../src/api/wait-signal.js';
import { submitJob } from '../../src/engine/jobs/job-submission.js';
import { registerNode } from '../../src/engine/nodes/node-registry.js';
import { TEST_DATABASES, startTestEngine } from '../helpers/databases.js';
import { eventually } from '../helpers/eventually.js';

/*
 * A long-poll claim that ends because its client hung up, or because the server is stopping,
 * must not look at the queue again: after the engine's close() the database may be gone,
 * and such a look made test/e2e/shutdown.test.ts fail once under load. `dispatcher.looks`
 * counts every look (each is a query of the queue), so it must not move once the wait ends.
 * Nor does a wait that simply runs out look again: the node's next claim will.
 */

const WAIT_MS = 30_000;

for (const database of TEST_DATABASES) {
  describe(`a waiting claim that is told to stop (${database.name})`, () => {
    it('ends without a look when its client hangs up, answers nothing, and takes no task', async () => {
      const t = await startTestEngine(database);
      try {
        const { ctx, dispatcher } = t.engine;
        const node = await registerNode(ctx, { name: 'n1' });
        const hangUp = new AbortController();
        const claim = dispatcher.claim(node.id, { max: 1 }, WAIT_MS, hangUp.signal);
        await eventually(() => assert.equal(dispatcher.parked, 1));
        const looks = dispatcher.looks;
        hangUp.abort();
        assert.deepEqual(await claim, []);
        assert.equal(dispatcher.looks, looks, 'no look at the queue after the hang-up');
        assert.equal(dispatcher.parked, 0);

        // Work that comes later goes to the next claim, not to the one that hung up.
        await submitJob(ctx, {
          type: 'command-line',
          user: 'alice',
          parameters: { executable: 'echo' },
        });
        const next = await dispatcher.claim(node.id, { max: 1 }, 0);
        assert.equal(next.length, 1);
      } finally {
        await t.close();
      }
    });

    it('a claim whose signal aborts while its look is written gives its tasks back', async () => {
      const t = await startTestEngine(database);
      try {
        const { ctx, dispatcher } = t.engine;
        const node = await registerNode(ctx, { name: 'n1', slots: 2 });
        const other = await registerNode(ctx, { name: 'n2', slots: 2 });
        await submitJob(ctx, {
          type: 'command-line',
          user: 'alice',
          frames: '1-2',
          parameters: { executable: 'echo' },
        });
        // As a claim that carries finishes which then fail (native/node-batches.ts): the
        // failure comes after the look went to the write lane.
        const failed = Promise.reject(new Error('the finishes failed'));
        const signal = abortedOnFailure(new HangUp(), failed);
        assert.equal(signal.aborted, false);
        const looks = dispatcher.looks;
        assert.deepEqual(await dispatcher.claim(node.id, { max: 2, start: true }, 0, signal), []);
        assert.equal(dispatcher.looks, looks + 1, 'it looked, and took the tasks');
        // Given back with no try counted: another node takes both, as their first try.
        const taken = await dispatcher.claim(other.id, { max: 2, start: true }, 0);
        assert.equal(taken.length, 2);
        assert.deepEqual(
          taken.map((a) => a.task.tries),
          [0, 0],
        );
      } finally {
        await t.close();
      }
    });

    it('a wait whose timer fires before the wall clock reaches its end still looks once', async () => {
      const t = await startTestEngine(database);
      const realNow = Date.now;
      try {
        const { ctx, dispatcher } = t.engine;
        const node = await registerNode(ctx, { name: 'n1' });
        const looks = dispatcher.looks;
        // A wall clock 2% slower than the timers' (NTP slewing it, or the millisecond each
        // rounds off): when the timer fires, Date.now() is still short of the deadline.
        const from = realNow();
        Date.now = () => from + Math.floor((realNow() - from) * 0.98);
        assert.deepEqual(await dispatcher.claim(node.id, { max: 1 }, 300), []);
        assert.equal(dispatcher.looks, looks + 1, 'one look, before the wait');
      } finally {
        Date.now = realNow;
        await t.close();
      }
    });

    it('a wait that runs out with no wake answers nothing after its one look', async () => {
      const t = await startTestEngine(database);
      try {
        const { ctx, dispatcher } = t.engine;
        const node = await registerNode(ctx, { name: 'n1' });
        const looks = dispatcher.looks;
        assert.deepEqual(await dispatcher.claim(node.id, { max: 1 }, 300), []);
        // The node's next claim looks at once; a second look here doubled every idle
        // node's looks (bench/nodes.ts).
        assert.equal(dispatcher.looks, looks + 1, 'one look, before the wait');
        // A wake during the wait still leads to a look, and to the work.
        const claim = dispatcher.claim(node.id, { max: 1 }, WAIT_MS);
        await eventually(() => assert.equal(dispatcher.parked, 1));
        await submitJob(ctx, {
          type: 'command-line',
          user: 'alice',
          parameters: { executable: 'echo' },
        });
        assert.equal((await claim).length, 1);
      } finally {
        await t.close();
      }
    });

    it('a claim whose client is already gone does not look at all', async () => {
      const t = await startTestEngine(database);
      try {
        const { ctx, dispatcher } = t.engine;
        const node = await registerNode(ctx, { name: 'n1' });
        const looks = dispatcher.looks;
        assert.deepEqual(await dispatcher.claim(node.id, {}, WAIT_MS, AbortSignal.abort()), []);
        assert.equal(dispatcher.looks, looks);
      } finally {
        await t.close();
      }
    });

    it('ends every waiting claim without a look when the engine closes, with no error', async () => {
      const t = await startTestEngine(database);
      let closed = false;
      try {
        const { ctx, dispatcher } = t.engine;
        const claims = [];
        for (let n = 0; n < 4; n++) {
          const node = await registerNode(ctx, { name: `n${n}`, slots: 2 });
          // Half as a server request would wait (with the engine's stopping signal), half bare.
          const signal = n % 2 === 0 ? t.engine.stopping : undefined;
          claims.push(dispatcher.claim(node.id, { max: 2 }, WAIT_MS, signal));
        }
        await eventually(() => assert.equal(dispatcher.parked, 4));
        const looks = dispatcher.looks;
        await t.close();
        closed = true;
        const settled = await Promise.allSettled(claims);
        for (const outcome of settled) {
          assert.equal(
            outcome.status,
            'fulfilled',
            String((outcome as PromiseRejectedResult).reason),
          );
          assert.deepEqual((outcome as PromiseFulfilledResult<unknown>).value, []);
        }
        assert.equal(dispatcher.looks, looks, 'no look at the queue after close');
        // A claim that arrives after close answers empty without touching the closed store.
        const late = await dispatcher.claim(1, { max: 1 }, WAIT_MS);
        assert.deepEqual(late, []);
        assert.equal(dispatcher.looks, looks);
      } finally {
        if (!closed) await t.close();
      }
    });
  });
}
