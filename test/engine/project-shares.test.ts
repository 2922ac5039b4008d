import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import { claimSingleTaskJob } from '../../src/engine/dispatch/single-task-job-control.js';
import { updateJobSettings } from '../../src/engine/jobs/job-settings.js';
import { waitingReasons } from '../../src/engine/jobs/waiting-reasons.js';
import { getPool, setPool } from '../../src/engine/pools/pools.js';
import { findExecution } from '../../src/store/executions.js';
import { TEST_DATABASES } from '../helpers/databases.js';
import { burstRace, drain, withEngine } from './fair-share-support.js';

/*
 * Weighted pools shared by project (docs/scheduling.md#fair-share): shares and burst limits
 * per project, as OpenCue's subscriptions per show, whoever submitted the jobs; enforced by
 * the queue's claims (SQLite's in the engine, PostgreSQL's drover_claim) and by UFDL's
 * claim of a named job. Real claims on both databases.
 */

for (const database of TEST_DATABASES) {
  const db = database.name;

  describe(`project shares (${db})`, () => {
    it('two projects with equal shares each get half of 10 nodes over 200 tasks, one user submitting both', () =>
      withEngine(database, async (t, f) => {
        const pool = await setPool(t.engine.ctx, 'farm', {
          mode: 'weighted',
          shareBy: 'project',
          shares: [
            { project: 'show-a', share: 1 },
            { project: 'show-b', share: 1 },
          ],
        });
        assert.equal(pool.shareBy, 'project');
        assert.deepEqual(
          pool.shares.map((s) => s.project),
          ['show-a', 'show-b'],
        );
        // One user, so user shares could not tell them apart; show-a's job is older, so
        // strict priority would give it every node.
        await f.submit({ frames: '1-100', project: 'show-a' });
        const bJob = await f.submit({ frames: '1-100', project: 'show-b' });
        const shares = await drain(f, await f.nodes(10), 'project');
        const a = shares.get('show-a') ?? 0;
        const b = shares.get('show-b') ?? 0;
        assert.ok(Math.abs(a - 0.5) <= 0.1, `show-a had ${a}`);
        assert.ok(Math.abs(b - 0.5) <= 0.1, `show-b had ${b}`);
        const reasons = await waitingReasons(t.engine.ctx, bJob);
        assert.ok(
          reasons.some(
            (r) =>
              r.code === 'FAIR_SHARE' &&
              /weighted by project: project show-b runs \d+ task\(s\) at share 1/.test(r.message),
          ),
          JSON.stringify(reasons),
        );
      }));

    it("a project's burst limit holds under 20 concurrent acquirers, whoever submits its jobs", () =>
      withEngine(database, async (t, f) => {
        await setPool(t.engine.ctx, 'farm', {
          mode: 'weighted',
          shareBy: 'project',
          shares: [{ project: 'show-a', share: 10, burst: 3 }],
        });
        const aJobs: number[] = [];
        for (const user of ['alice', 'bob', 'carol', 'dave']) {
          aJobs.push(await f.submit({ frames: '1-20', user, project: 'show-a' }));
        }
        // Jobs without a project share the project "" (share 1, no burst limit).
        await f.submit({ frames: '1-200', user: 'alice' });
        const { nodes, sawCap } = await burstRace(t, f, {
          cappedJobs: aJobs,
          running: async () => (await f.runningByProject()).get('show-a') ?? 0,
          burst: 3,
          holder: 'show-a',
        });
        assert.ok(sawCap, 'show-a reached its burst limit at least once');
        await Promise.all(nodes.map((n) => f.take(n)));
        assert.equal((await f.runningByProject()).get('show-a'), 3);
        const waiting = aJobs[3]!;
        const reasons = await waitingReasons(t.engine.ctx, waiting);
        assert.ok(
          reasons.some(
            (r) =>
              r.code === 'BURST_LIMIT' &&
              r.message.startsWith('project show-a is at its burst limit in pool farm (3 running'),
          ),
          JSON.stringify(reasons),
        );
        assert.equal((await getPool(t.engine.ctx, 'farm')).shares[0]?.running, 3);
      }));

    it("UFDL's claim of a named job respects the burst limit, by project and by user", () =>
      withEngine(database, async (t, f) => {
        const { ctx, settings } = t.engine;
        const [node] = await f.nodes(1);
        await setPool(ctx, 'farm', {
          mode: 'weighted',
          shareBy: 'project',
          shares: [{ project: 'show-a', share: 1, burst: 1 }],
        });
        const first = await f.submit({ project: 'show-a' });
        const second = await f.submit({ project: 'show-a', user: 'bob' });
        const other = await f.submit({ project: 'show-b' });
        const got = await claimSingleTaskJob(ctx, settings, first, node!);
        assert.equal(got.kind, 'acquired');
        const refused = await claimSingleTaskJob(ctx, settings, second, node!);
        assert.deepEqual(refused, {
          kind: 'refused',
          reason: 'project show-a is at its burst limit in pool farm (1 running, limit 1)',
        });
        assert.equal((await claimSingleTaskJob(ctx, settings, other, node!)).kind, 'acquired');
        // Its task ends: the project has room again.
        const execution = (await findExecution(
          ctx.db,
          (got as { executionId: number }).executionId,
        ))!;
        await f.complete(execution);
        assert.equal((await claimSingleTaskJob(ctx, settings, second, node!)).kind, 'acquired');

        // By user: bob's burst limit of 1 is reached by the job he just claimed.
        await setPool(ctx, 'farm', {
          mode: 'weighted',
          shares: [{ user: 'bob', share: 1, burst: 1 }],
        });
        const bobs = await f.submit({ user: 'bob' });
        const byUser = await claimSingleTaskJob(ctx, settings, bobs, node!);
        assert.deepEqual(byUser, {
          kind: 'refused',
          reason: 'user bob is at their burst limit in pool farm (1 running, limit 1)',
        });
        // Shared by user now: another project does not free bob's job from his limit.
        await updateJobSettings(ctx, bobs, { project: 'show-c' });
        assert.equal((await claimSingleTaskJob(ctx, settings, bobs, node!)).kind, 'refused');
      }));

    it('fair share reaches a user whose jobs all lie beyond the page of the oldest jobs', () =>
      withEngine(database, async (t, f) => {
        await setPool(t.engine.ctx, 'farm', {
          mode: 'weighted',
          shares: [
            { user: 'alice', share: 1 },
            { user: 'bob', share: 1 },
          ],
        });
        // Eight of alice's jobs are older than bob's one: the claim's page (the four oldest)
        // holds only hers, and bob's job is the ninth in the queue.
        for (let i = 0; i < 8; i++) await f.submit({ frames: '1-10', user: 'alice' });
        const bobs = await f.submit({ frames: '1-40', user: 'bob' });
        const nodes = await f.nodes(10);
        // One claim after another, so each sees the last one's counters.
        for (const n of nodes) assert.ok(await f.take(n), `node ${n} takes a task`);
        const { rows } = await sql<{ user_name: string; n: number | string }>`
          select j.user_name, count(*) as n from tasks t join jobs j on j.id = t.job_id
          where t.state = 'RUNNING' group by j.user_name`.execute(t.engine.ctx.db);
        const running = new Map(rows.map((r) => [r.user_name, Number(r.n)]));
        assert.equal(running.get('bob'), 5, JSON.stringify([...running]));
        assert.equal(running.get('alice'), 5, JSON.stringify([...running]));
        const reasons = await waitingReasons(t.engine.ctx, bobs);
        assert.ok(!reasons.some((r) => r.code === 'BURST_LIMIT'), JSON.stringify(reasons));
      }));

    it('refuses shares that do not match the pool, and project names out of bounds', () =>
      withEngine(database, async (t, f) => {
        const { ctx } = t.engine;
        await assert.rejects(
          setPool(ctx, 'farm', {
            mode: 'weighted',
            shareBy: 'project',
            shares: [{ user: 'bob', share: 1 }],
          }),
          /a pool shared by project takes shares of projects/,
        );
        await assert.rejects(
          setPool(ctx, 'farm', { mode: 'weighted', shares: [{ project: 'show-a', share: 1 }] }),
          /set shareBy "project" for project shares/,
        );
        await assert.rejects(
          setPool(ctx, 'farm', { mode: 'balanced', shareBy: 'project' }),
          /shareBy applies to weighted pools only/,
        );
        await assert.rejects(
          f.submit({ project: 'x'.repeat(201) }),
          /project must be text of at most 200 characters/,
        );
      }));
  });
}
