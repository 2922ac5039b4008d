/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import { api, buildOnce, drover, expectRun, submitJob } from './support.js';

const database = TEST_DATABASES[0]!;
const HEADER = 'ID  NAME   TYPE          USER   STATE      PROGRESS  PRIORITY  POOL  SUBMITTED';
// The test server's clock stands still at 2026-01-01T00:00:00Z; the child runs with TZ=UTC.
const ROWS = {
  gamma: ' 3  gamma  command-line  alice  SUSPENDED  0/1 (0%)        50  -     2026-01-01 00:00:00',
  beta: ' 2  beta   shell-script  bob    QUEUED     0/1 (0%)        50  -     2026-01-01 00:00:00',
  alpha: ' 1  alpha  command-line  alice  QUEUED     0/2 (0%)        60  gpu   2026-01-01 00:00:00',
};
const lines = (...rows: string[]): string => `${rows.join('\n')}\n`;

describe('drover jobs', () => {
  let t: TestServer;
  before(async () => {
    await buildOnce();
    t = await startTestServer(database);
    await submitJob(t, {
      name: 'alpha',
      user: 'alice',
      pool: 'gpu',
      priority: 60,
      frames: '1-4',
      chunkSize: 2,
    });
    await submitJob(t, {
      name: 'beta',
      user: 'bob',
      type: 'shell-script',
      parameters: { script: 'true' },
    });
    await submitJob(t, { name: 'gamma', user: 'alice', initialState: 'SUSPENDED' });
  });
  after(async () => {
    await t?.close();
  });

  it('lists jobs newest first as a table', async () => {
    expectRun(await drover(t, ['jobs']), 0, lines(HEADER, ROWS.gamma, ROWS.beta, ROWS.alpha));
  });

  it('filters by state, user, type and pool', async () => {
    expectRun(await drover(t, ['jobs', '--state', 'suspended']), 0, lines(HEADER, ROWS.gamma));
    expectRun(
      await drover(t, ['jobs', '--state', 'QUEUED,SUSPENDED', '--user', 'alice']),
      0,
      lines(HEADER, ROWS.gamma, ROWS.alpha),
    );
    expectRun(
      await drover(t, ['jobs', '--type', 'shell-script']),
      0,
      lines(
        'ID  NAME  TYPE          USER  STATE   PROGRESS  PRIORITY  POOL  SUBMITTED',
        ' 2  beta  shell-script  bob   QUEUED  0/1 (0%)        50  -     2026-01-01 00:00:00',
      ),
    );
    expectRun(
      await drover(t, ['jobs', '--pool', 'gpu']),
      0,
      lines(
        'ID  NAME   TYPE          USER   STATE   PROGRESS  PRIORITY  POOL  SUBMITTED',
        ' 1  alpha  command-line  alice  QUEUED  0/2 (0%)        60  gpu   2026-01-01 00:00:00',
      ),
    );
    expectRun(await drover(t, ['jobs', '--user', 'nobody']), 0, 'no jobs\n');
    expectRun(
      await drover(t, ['jobs', '--state', 'sleeping']),
      1,
      '',
      'drover: unknown state "SLEEPING"\n',
    );
  });

  it('sorts and pages', async () => {
    expectRun(
      await drover(t, ['jobs', '--sort', '-priority,id']),
      0,
      lines(HEADER, ROWS.alpha, ROWS.beta, ROWS.gamma),
    );
    expectRun(
      await drover(t, ['jobs', '--limit', '2']),
      0,
      lines(HEADER, ROWS.gamma, ROWS.beta, 'jobs 1-2 of 3; see more with --limit or --offset'),
    );
  });

  it('prints JSON with --json', async () => {
    const run = await drover(t, ['jobs', '--json', '--user', 'alice']);
    expectRun(run, 0);
    const jobs = JSON.parse(run.stdout);
    assert.deepEqual(
      jobs.map((j: any) => [j.id, j.name, j.state, j.user]),
      [
        [3, 'gamma', 'SUSPENDED', 'alice'],
        [1, 'alpha', 'QUEUED', 'alice'],
      ],
    );
    assert.equal(jobs[1].tasks.total, 2);
  });

  it('leaves deleted jobs out unless --all', async () => {
    await api(t, 'DELETE', '/jobs/2');
    try {
      expectRun(await drover(t, ['jobs']), 0, lines(HEADER, ROWS.gamma, ROWS.alpha));
      const all = await drover(t, ['jobs', '--all', '--json']);
      expectRun(all, 0);
      assert.deepEqual(
        JSON.parse(all.stdout).map((j: any) => [j.id, j.deleted]),
        [
          [3, false],
          [2, true],
          [1, false],
        ],
      );
      const table = await drover(t, ['jobs', '--all', '--user', 'bob']);
      expectRun(
        table,
        0,
        lines(
          'ID  NAME  TYPE          USER  STATE             PROGRESS  PRIORITY  POOL  SUBMITTED',
          ' 2  beta  shell-script  bob   QUEUED (deleted)  0/1 (0%)        50  -     2026-01-01 00:00:00',
        ),
      );
    } finally {
      await api(t, 'POST', '/jobs/2/undelete');
    }
  });
});
