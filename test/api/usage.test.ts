/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { toCsv } from '../../src/api/native/usage.js';
import { addUser, createToken } from '../../src/engine/accounts/accounts.js';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import { expectError, expectStatus, register } from './support.js';

/*
 * Issue 17, usage: CPU-, wall- and GPU-hours of a fixed set of executions, per user, pool,
 * job type and job, match a hand computation; a user sees their own jobs' usage, an admin
 * everyone's; JSON and CSV; bad queries are refused.
 */

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const GiB = 2 ** 30;
const HOUR = 3600_000;

for (const database of TEST_DATABASES) {
  describe(`native API: usage (${database.name})`, () => {
    let t: TestServer;
    const h: Record<string, Record<string, string>> = {};
    let from: string;
    let to: string;
    const jobIds: Record<string, number> = {};

    before(async () => {
      t = await startTestServer(database, { auth: true });
      await addUser(t.engine.ctx, 'root', 'admin', 'root-pw');
      await addUser(t.engine.ctx, 'n1', 'node', 'n1-pw');
      for (const name of ['alice', 'bob']) await addUser(t.engine.ctx, name, 'user', `${name}-pw`);
      for (const name of ['root', 'alice', 'bob', 'n1']) {
        h[name] = bearer(await createToken(t.engine.ctx, name));
      }
      const node = await register(t, 'usage-node', { slots: 10, pools: ['render', 'sim'] }, h.n1);

      const submit = async (who: string, name: string, body: Record<string, unknown>) => {
        const res = await t.request(
          'POST',
          '/api/v1/jobs',
          { type: 'command-line', parameters: { executable: 'echo' }, name, maxTries: 1, ...body },
          h[who],
        );
        expectStatus(res, 201, `submit ${name}`);
        jobIds[name] = res.body.id;
      };
      /** Claims every queued task and reports each as `finish` says, then lets `ms` pass. */
      const runAll = async (
        finish: (job: string, index: number) => Record<string, unknown>,
        ms = 0,
      ) => {
        const claim = await t.request(
          'POST',
          `/api/v1/nodes/${node.id}/claims`,
          { max: 10, start: true },
          h.n1,
        );
        expectStatus(claim, 200);
        t.clock.advance(ms);
        const names = Object.fromEntries(Object.entries(jobIds).map(([k, v]) => [v, k]));
        const finishes = claim.body.orders.map((o: any) => ({
          executionId: o.execution.id,
          ...finish(names[o.job.id]!, o.task.index),
        }));
        const res = await t.request(
          'POST',
          `/api/v1/nodes/${node.id}/finishes`,
          { finishes },
          h.n1,
        );
        expectStatus(res, 200);
        assert.ok(
          res.body.results.every((r: any) => r.status === 200),
          JSON.stringify(res.body),
        );
      };

      // Ended before the range: counted nowhere.
      await submit('alice', 'old', { pool: 'render' });
      await runAll(() => ({ success: true, usage: { cpuSeconds: 36_000, wallSeconds: 36_000 } }));
      t.clock.advance(24 * HOUR);
      from = new Date(t.clock.now - HOUR).toISOString();

      await submit('alice', 'A1', { pool: 'render', frames: '1-2', chunkSize: 1 });
      await submit('alice', 'A2', { pool: 'sim' });
      await submit('bob', 'B1', {
        pool: 'render',
        type: 'shell-script',
        parameters: { script: 'true' },
      });
      await runAll((job, index) => {
        if (job === 'A1' && index === 0) {
          return {
            success: true,
            usage: { cpuSeconds: 3600, wallSeconds: 7200, peakMemoryBytes: GiB },
          };
        }
        if (job === 'A1') {
          return {
            success: false,
            exitCode: 1,
            usage: {
              cpuSeconds: 1800,
              wallSeconds: 3600,
              gpuSeconds: 900,
              peakMemoryBytes: 2 * GiB,
            },
          };
        }
        if (job === 'A2') return { success: true, usage: { cpuSeconds: 720, wallSeconds: 1800 } };
        return { success: true, usage: { cpuSeconds: 5400, wallSeconds: 5400, gpuSeconds: 3600 } };
      });
      // No figures at all (an older worker): its wall time is its start to its end, 50 s.
      await submit('bob', 'B2', { pool: 'render' });
      await runAll(() => ({ success: true }), 50_000);
      to = new Date(t.clock.now + 1).toISOString();
    });
    after(async () => {
      await t?.close();
    });

    const usage = async (who: string, query: string, headers: Record<string, string> = {}) =>
      t.request('GET', `/api/v1/usage?from=${from}&to=${to}&${query}`, undefined, {
        ...h[who],
        ...headers,
      });
    const figures = (items: any[]) =>
      Object.fromEntries(
        items.map((i) => [
          i.key,
          [i.executions, i.cpuHours, i.wallHours, i.gpuHours, i.peakMemoryBytes],
        ]),
      );

    it('an admin sees every user, pool, job type and job, as computed by hand', async () => {
      const byUser = expectStatus(await usage('root', 'group=user'), 200).body;
      assert.equal(byUser.user, null);
      assert.equal(byUser.from, from);
      assert.deepEqual(figures(byUser.items), {
        // A1's two (1 h + 0.5 h CPU; 2 h + 1 h wall; 0.25 h GPU), A2 (0.2 h, 0.5 h).
        alice: [3, 1.7, 3.5, 0.25, 2 * GiB],
        // B1 (1.5 h, 1.5 h, 1 h GPU) and B2 (no figures: 50 s of wall time).
        bob: [2, 1.5, 1.513889, 1, null],
      });
      assert.deepEqual(byUser.totals, {
        executions: 5,
        cpuHours: 3.2,
        wallHours: 5.013889,
        gpuHours: 1.25,
        peakMemoryBytes: 2 * GiB,
      });
      assert.equal(byUser.truncated, false);

      const byPool = expectStatus(await usage('root', 'group=pool'), 200).body;
      assert.deepEqual(figures(byPool.items), {
        render: [4, 3, 4.513889, 1.25, 2 * GiB],
        sim: [1, 0.2, 0.5, null, null],
      });

      const byType = expectStatus(await usage('root', 'group=jobType'), 200).body;
      assert.deepEqual(figures(byType.items), {
        'command-line': [4, 1.7, 3.513889, 0.25, 2 * GiB],
        'shell-script': [1, 1.5, 1.5, 1, null],
      });

      const byJob = expectStatus(await usage('root', 'group=job'), 200).body;
      assert.deepEqual(
        byJob.items.map((i: any) => i.key),
        ['A1', 'A2', 'B1', 'B2'].map((n) => String(jobIds[n])),
      );
      assert.deepEqual(byJob.items[0].cpuHours, 1.5);
    });

    it('a user sees only their own jobs', async () => {
      const alice = expectStatus(await usage('alice', 'group=pool'), 200).body;
      assert.equal(alice.user, 'alice');
      assert.deepEqual(figures(alice.items), {
        render: [2, 1.5, 3, 0.25, 2 * GiB],
        sim: [1, 0.2, 0.5, null, null],
      });
      assert.equal(alice.totals.executions, 3);
      const bob = expectStatus(await usage('bob', 'group=user'), 200).body;
      assert.deepEqual(Object.keys(figures(bob.items)), ['bob']);
      // A node account reads no usage.
      expectError(await usage('n1', 'group=user'), 403);
    });

    it('answers CSV for format=csv or Accept: text/csv, totals last', async () => {
      const res = await usage('root', 'group=pool&format=csv');
      expectStatus(res, 200);
      assert.match(res.headers.get('content-type')!, /^text\/csv/);
      assert.equal(
        res.body,
        [
          'pool,executions,cpu_hours,wall_hours,gpu_hours,peak_memory_bytes',
          `render,4,3,4.513889,1.25,${2 * GiB}`,
          'sim,1,0.2,0.5,,',
          `(total),5,3.2,5.013889,1.25,${2 * GiB}`,
          '',
        ].join('\r\n'),
      );
      const accepted = await usage('alice', 'group=user', { accept: 'text/csv' });
      assert.match(accepted.headers.get('content-type')!, /^text\/csv/);
      assert.match(accepted.body, /^user,executions/);
      assert.match(accepted.body, /\r\nalice,3,1\.7,3\.5,0\.25,/);
    });

    it('lists at most `limit` groups and says so', async () => {
      const res = expectStatus(await usage('root', 'group=job&limit=2'), 200).body;
      assert.equal(res.items.length, 2);
      assert.equal(res.truncated, true);
      assert.equal(res.totals.executions, 5);
    });

    it("narrows to one job with ?job=, and to nothing for a job not the user's", async () => {
      const a1 = expectStatus(await usage('root', `group=job&job=${jobIds.A1}`), 200).body;
      assert.deepEqual(
        a1.items.map((i: any) => i.key),
        [String(jobIds.A1)],
      );
      assert.equal(a1.totals.cpuHours, 1.5);
      assert.equal(a1.totals.executions, a1.items[0].executions);
      const mine = expectStatus(await usage('alice', `group=job&job=${jobIds.A1}`), 200).body;
      assert.equal(mine.totals.cpuHours, 1.5);
      const others = expectStatus(await usage('bob', `group=job&job=${jobIds.A1}`), 200).body;
      assert.deepEqual(others.items, []);
      assert.equal(others.totals.executions, 0);
    });

    it('refuses bad queries with a message that says what to send', async () => {
      for (const [query, pattern] of [
        ['group=job&job=0', /job/],
        ['group=job&job=x', /job/],
        ['group=shows', /group/],
        ['group=user&limit=0', /limit/],
        ['group=user&format=xml', /format/],
        ['group=user&colour=red', /colour|additional/],
      ] as const) {
        const res = await usage('root', query);
        expectError(res, 400, undefined, query);
        assert.match(res.body.message, pattern, query);
      }
      const backwards = await t.request(
        'GET',
        `/api/v1/usage?from=${to}&to=${from}`,
        undefined,
        h.root,
      );
      expectError(backwards, 400);
      assert.match(backwards.body.message, /from must be before to/);
      const long = await t.request(
        'GET',
        '/api/v1/usage?from=2000-01-01T00:00:00Z&to=2026-01-01T00:00:00Z',
        undefined,
        h.root,
      );
      expectError(long, 400);
      assert.match(long.body.message, /ten years/);
      expectError(await t.request('GET', '/api/v1/usage?from=yesterday', undefined, h.root), 400);
    });
  });
}

describe('usage CSV', () => {
  it('quotes what needs quoting and keeps a spreadsheet from running a key as a formula', () => {
    const figures = {
      executions: 1,
      cpuHours: 0.5,
      wallHours: 1,
      gpuHours: null,
      peakMemoryBytes: null,
    };
    const csv = toCsv({
      group: 'pool',
      from: 0,
      to: 1,
      user: undefined,
      items: [
        { key: '=HYPERLINK("http://x")', ...figures },
        { key: 'a,b', ...figures },
        { key: '', ...figures },
      ],
      totals: { ...figures, executions: 3 },
      truncated: false,
    });
    assert.equal(
      csv,
      [
        'pool,executions,cpu_hours,wall_hours,gpu_hours,peak_memory_bytes',
        `"'=HYPERLINK(""http://x"")",1,0.5,1,,`,
        '"a,b",1,0.5,1,,',
        ',1,0.5,1,,',
        '(total),3,0.5,1,,',
        '',
      ].join('\r\n'),
    );
  });
});
