import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import { api, buildOnce, drover, expectRun, submitJob } from './support.js';

const database = TEST_DATABASES[0]!;

describe('drover suspend|resume|requeue|cancel|delete|undelete|purge|protect|unprotect', () => {
  let t: TestServer;
  before(async () => {
    await buildOnce();
    t = await startTestServer(database);
  });
  after(async () => {
    await t?.close();
  });

  const state = async (id: number) => (await api(t, 'GET', `/jobs/${id}`)).state as string;

  it('suspends, resumes, requeues and cancels several jobs', async () => {
    const a = (await submitJob(t)).id as number;
    const b = (await submitJob(t)).id as number;
    expectRun(
      await drover(t, ['suspend', String(a), String(b)]),
      0,
      `job ${a} suspended (SUSPENDED)\njob ${b} suspended (SUSPENDED)\n`,
    );
    assert.equal(await state(a), 'SUSPENDED');
    expectRun(
      await drover(t, ['resume', `${a},${b}`]),
      0,
      `job ${a} resumed (QUEUED)\njob ${b} resumed (QUEUED)\n`,
    );
    expectRun(await drover(t, ['requeue', String(a)]), 0, `job ${a} requeued (QUEUED)\n`);
    expectRun(
      await drover(t, ['cancel', String(a), String(b)]),
      0,
      `job ${a} canceled (CANCELED)\njob ${b} canceled (CANCELED)\n`,
    );
    assert.equal(await state(b), 'CANCELED');
  });

  it('reports each job and exits 1 when any failed', async () => {
    const a = (await submitJob(t)).id as number;
    const run = await drover(t, ['suspend', String(a), '9999']);
    expectRun(run, 1, `job ${a} suspended (SUSPENDED)\n`, 'drover: job 9999 does not exist\n');
    assert.equal(await state(a), 'SUSPENDED');

    const json = await drover(t, ['cancel', '--json', String(a), '9999']);
    expectRun(json, 1);
    const results = JSON.parse(json.stdout);
    assert.equal(results.length, 2);
    assert.deepEqual([results[0].id, results[0].ok, results[0].job.state], [a, true, 'CANCELED']);
    assert.deepEqual(results[1], {
      id: 9999,
      ok: false,
      error: { code: 'NOT_FOUND', message: 'job 9999 does not exist' },
    });
  });

  it('deletes, undeletes and purges', async () => {
    const a = (await submitJob(t, { initialState: 'SUSPENDED' })).id as number;
    expectRun(await drover(t, ['delete', String(a)]), 0, `job ${a} deleted\n`);
    assert.equal((await api(t, 'GET', `/jobs/${a}`)).deleted, true);
    expectRun(await drover(t, ['undelete', String(a)]), 0, `job ${a} restored (SUSPENDED)\n`);
    assert.equal((await api(t, 'GET', `/jobs/${a}`)).deleted, false);

    const refused = await t.request('DELETE', `/api/v1/jobs/${a}?purge=true`);
    assert.equal(refused.status, 409);
    expectRun(await drover(t, ['purge', String(a)]), 1, '', `drover: ${refused.body.message}\n`);

    expectRun(await drover(t, ['delete', String(a)]), 0, `job ${a} deleted\n`);
    expectRun(await drover(t, ['purge', String(a)]), 0, `job ${a} purged\n`);
    assert.equal((await t.request('GET', `/api/v1/jobs/${a}`)).status, 404);
  });

  it('protects and unprotects jobs, and submits a protected one', async () => {
    const a = (await submitJob(t)).id as number;
    expectRun(await drover(t, ['protect', String(a)]), 0, `job ${a} protected (QUEUED)\n`);
    assert.equal((await api(t, 'GET', `/jobs/${a}`)).protected, true);
    expectRun(await drover(t, ['unprotect', String(a)]), 0, `job ${a} unprotected (QUEUED)\n`);
    assert.equal((await api(t, 'GET', `/jobs/${a}`)).protected, false);
    const submitted = await drover(t, ['submit', '--protected', '--', 'echo', 'hi']);
    expectRun(submitted, 0);
    const id = Number(submitted.stdout.trim());
    assert.equal((await api(t, 'GET', `/jobs/${id}`)).protected, true);
  });

  it('refuses ids that are not numbers before doing anything', async () => {
    const a = (await submitJob(t)).id as number;
    expectRun(
      await drover(t, ['cancel', String(a), 'x1']),
      1,
      '',
      'drover: "x1" is not a job id (a positive whole number)\n',
    );
    assert.equal(await state(a), 'QUEUED');
    await api(t, 'POST', `/jobs/${a}/cancel`);
  });
});
