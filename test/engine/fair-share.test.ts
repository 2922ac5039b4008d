import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { waitingReasons } from '../../src/engine/jobs/waiting-reasons.js';
import { idleReasons } from '../../src/engine/nodes/idle-reasons.js';
import { setPool } from '../../src/engine/pools/pools.js';
import { TEST_DATABASES } from '../helpers/databases.js';
import { burstRace, drain, withEngine } from './fair-share-support.js';

/*
 * Fair share (docs/scheduling.md): a pool's mode orders equal-priority work by running
 * tasks (balanced) or by users' running tasks over their share (weighted), with a burst
 * limit as a hard cap; a pool without a setting keeps strict priority then age. Real claims
 * through the engine's dispatcher on both databases.
 */

for (const database of TEST_DATABASES) {
  const db = database.name;

  describe(`fair share (${db})`, () => {
    it('weighted: two users with equal shares each get half of 10 nodes over 200 tasks', () =>
      withEngine(database, async (t, f) => {
        await setPool(t.engine.ctx, 'farm', {
          mode: 'weighted',
          shares: [
            { user: 'alice', share: 1 },
            { user: 'bob', share: 1 },
          ],
        });
        // Alice's job is older: strict priority would give her every node.
        await f.submit({ frames: '1-100', user: 'alice' });
        const bobJob = await f.submit({ frames: '1-100', user: 'bob' });
        const shares = await drain(f, await f.nodes(10), 'user');
        const share = { alice: shares.get('alice') ?? 0, bob: shares.get('bob') ?? 0 };
        assert.ok(Math.abs(share.alice - 0.5) <= 0.1, `alice had ${share.alice}`);
        assert.ok(Math.abs(share.bob - 0.5) <= 0.1, `bob had ${share.bob}`);
        const reasons = await waitingReasons(t.engine.ctx, bobJob);
        assert.ok(
          reasons.some((r) => r.code === 'FAIR_SHARE' && /user bob runs \d+/.test(r.message)),
          JSON.stringify(reasons),
        );
      }));

    it('a pool without a setting keeps strict priority then age', () =>
      withEngine(database, async (_t, f) => {
        const older = await f.submit({ frames: '1-100', user: 'alice' });
        await f.submit({ frames: '1-100', user: 'bob' });
        const nodes = await f.nodes(10);
        for (const n of nodes) assert.equal((await f.take(n))?.job_id, older);
        assert.equal((await f.runningByUser()).get('bob'), undefined);
      }));

    it('balanced: equal-priority jobs share the nodes; priority still comes first', () =>
      withEngine(database, async (t, f) => {
        await setPool(t.engine.ctx, 'farm', { mode: 'balanced' });
        const older = await f.submit({ frames: '1-50' });
        const newer = await f.submit({ frames: '1-50' });
        const urgent = await f.submit({ frames: '1-2', priority: 90 });
        const nodes = await f.nodes(10);
        await Promise.all(nodes.map((n) => f.take(n)));
        const running = await f.runningByJob();
        assert.equal(running.get(urgent), 2, JSON.stringify([...running, urgent, older, newer]));
        assert.equal(running.get(older), 4, JSON.stringify([...running]));
        assert.equal(running.get(newer), 4, JSON.stringify([...running]));
        const reasons = await waitingReasons(t.engine.ctx, newer);
        assert.ok(
          reasons.some((r) => r.code === 'FAIR_SHARE'),
          JSON.stringify(reasons),
        );
      }));

    it('balanced: jobs beyond the page of the oldest share the nodes too', () =>
      withEngine(database, async (t, f) => {
        await setPool(t.engine.ctx, 'farm', { mode: 'balanced' });
        // Eight jobs of one priority: the claim's page holds the four oldest, and the other
        // four, with no task running, must come before a second task of any of those.
        const jobs: number[] = [];
        for (let i = 0; i < 8; i++) jobs.push(await f.submit({ frames: '1-10' }));
        for (const node of await f.nodes(8)) await f.take(node);
        const running = await f.runningByJob();
        assert.deepEqual(
          jobs.map((j) => running.get(j) ?? 0),
          [1, 1, 1, 1, 1, 1, 1, 1],
          JSON.stringify([...running]),
        );
      }));

    it('a burst limit is never exceeded by 20 concurrent acquirers; other work fills the nodes', () =>
      withEngine(database, async (t, f) => {
        await setPool(t.engine.ctx, 'farm', {
          mode: 'weighted',
          shares: [
            { user: 'alice', share: 1 },
            { user: 'bob', share: 10, burst: 3 },
          ],
        });
        const bobJobs: number[] = [];
        for (let i = 0; i < 4; i++) bobJobs.push(await f.submit({ frames: '1-20', user: 'bob' }));
        await f.submit({ frames: '1-200', user: 'alice' });
        // PostgreSQL: four replicas, each with its own transactions, claim at once.
        const { nodes, sawCap } = await burstRace(t, f, {
          cappedJobs: bobJobs,
          running: async () => (await f.runningByUser()).get('bob') ?? 0,
          burst: 3,
          holder: 'bob',
        });
        assert.ok(sawCap, 'bob reached his burst limit at least once');
        // At the cap, bob's jobs say why they wait.
        const got = await Promise.all(nodes.map((n) => f.take(n)));
        assert.ok(got.length > 0);
        assert.equal((await f.runningByUser()).get('bob'), 3);
        {
          const reasons = await waitingReasons(t.engine.ctx, bobJobs[3]!);
          assert.ok(
            reasons.some(
              (r) =>
                r.code === 'BURST_LIMIT' &&
                r.message.includes('user bob is at their burst limit') &&
                r.message.includes('3 running'),
            ),
            JSON.stringify(reasons),
          );
          // The mirror: why a node does not take bob's job.
          const idle = await idleReasons(t.engine.ctx, nodes[0]!, 20);
          const bobs = idle.jobs.find((j) => j.jobId === bobJobs[3]);
          assert.ok(
            bobs?.reasons.some((r) => r.code === 'BURST_LIMIT'),
            JSON.stringify(idle.jobs),
          );
        }
      }));
  });
}
