import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import { api, buildOnce, drain, drover, expectRun, submitJob } from './support.js';

for (const database of TEST_DATABASES) {
  describe(`drover modify (${database.name})`, () => {
    let t: TestServer;
    before(async () => {
      await buildOnce();
      t = await startTestServer(database);
    });
    beforeEach(async () => {
      await drain(t);
    });
    after(async () => {
      await t?.close();
    });

    it('changes the settings given and prints each change', async () => {
      const job = await submitJob(t, { name: 'shot 5', maxTries: 3 });
      const id = String(job.id);
      expectRun(
        await drover(t, [
          'modify',
          id,
          '--name',
          'shot 9',
          '--priority',
          '80',
          '--pool',
          'gpu',
          '--project',
          'show-b',
          '--machine-limit',
          '3',
          '--max-tries',
          '5',
          '--task-timeout',
          '1h30m',
          '--job-timeout',
          '7200',
        ]),
        0,
        `job ${id} modified\n` +
          '  name: "shot 5" → "shot 9"\n' +
          '  priority: 50 → 80\n' +
          '  pool: (none) → gpu\n' +
          '  project: (none) → show-b\n' +
          '  machine limit: none → 3\n' +
          '  max tries: 3 → 5\n' +
          '  task timeout: none → 1h 30m\n' +
          '  job timeout: none → 2h 00m\n',
      );
      const changed = await api(t, 'GET', `/jobs/${id}`);
      assert.deepEqual(
        [changed.name, changed.priority, changed.pool, changed.machineLimit, changed.maxTries],
        ['shot 9', 80, 'gpu', 3, 5],
      );
      assert.deepEqual([changed.taskTimeout, changed.jobTimeout], [5400, 7200]);

      expectRun(
        await drover(t, ['modify', id, '--priority', '80', '--task-timeout', '90m']),
        0,
        `job ${id}: nothing changed (it already had these settings)\n`,
      );
      expectRun(
        await drover(t, ['modify', id, '--task-timeout', 'none', '--pool', '']),
        0,
        `job ${id} modified\n  pool: gpu → (none)\n  task timeout: 1h 30m → none\n`,
      );
      const json = await drover(t, ['modify', id, '--json', '--priority', '10']);
      expectRun(json, 0);
      const body = JSON.parse(json.stdout);
      assert.equal(body.job.priority, 10);
      assert.deepEqual(body.changed, { priority: { from: 80, to: 10 } });
    });

    it('replaces dependencies, and says when the job moved', async () => {
      const first = (await submitJob(t)).id as number;
      const job = (await submitJob(t)).id as number;
      expectRun(
        await drover(t, ['modify', String(job), '--depends-on', String(first)]),
        0,
        `job ${job} modified\n  depends on: none → ${first}\n  state: QUEUED → PENDING\n`,
      );
      expectRun(
        await drover(t, ['modify', String(job), '--depends-on', 'none']),
        0,
        `job ${job} modified\n  depends on: ${first} → none\n  state: PENDING → QUEUED\n`,
      );
      const refused = await t.request('PATCH', `/api/v1/jobs/${job}`, { dependencies: [job] });
      assert.equal(refused.status >= 400 && refused.status < 500, true);
      expectRun(
        await drover(t, ['modify', String(job), '--depends-on', String(job)]),
        1,
        '',
        `drover: ${refused.body.message}\n`,
      );
    });

    it('--on-dependency-failure changes the policy, and moves a job waiting on a failed one', async () => {
      const first = (await submitJob(t)).id as number;
      const job = (await submitJob(t, { dependencies: [first], onDependencyFailure: 'WAIT' }))
        .id as number;
      await api(t, 'POST', `/jobs/${first}/fail`);
      expectRun(
        await drover(t, ['modify', String(job), '--on-dependency-failure', 'run']),
        0,
        `job ${job} modified\n  on dependency failure: WAIT → RUN\n  state: PENDING → QUEUED\n`,
      );
      expectRun(
        await drover(t, ['modify', String(job), '--on-dependency-failure', 'later']),
        1,
        '',
        /--on-dependency-failure must be CANCEL .*, WAIT .* or RUN .*, not "later"/,
      );
    });

    it("refuses bad input, printing the server's message for what only it checks", async () => {
      const id = String((await submitJob(t)).id);
      expectRun(
        await drover(t, ['modify', id]),
        1,
        '',
        /^drover: give at least one setting to change: --name, --priority/,
      );
      expectRun(
        await drover(t, ['modify', id, '--task-timeout', '5x']),
        1,
        '',
        /--task-timeout must be seconds \(90\) or a span such as 45m, 2h or 1h30m/,
      );
      const over = await t.request('PATCH', `/api/v1/jobs/${id}`, { priority: 2_000_000_000 });
      assert.equal(over.status, 400);
      expectRun(
        await drover(t, ['modify', id, '--priority', '2000000000']),
        1,
        '',
        `drover: ${over.body.message}\n`,
      );
      expectRun(
        await drover(t, ['modify', '424242', '--priority', '1']),
        1,
        '',
        'drover: job 424242 does not exist\n',
      );
      assert.equal((await api(t, 'GET', `/jobs/${id}`)).priority, 50);
    });
  });
}
