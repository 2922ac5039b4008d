/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../../helpers/databases.js';
import { startTestServer, type TestServer } from '../../helpers/http.js';
import { createJobType, expectStatus, manifest, queue } from './support.js';

/*
 * Scale's BLOCKED: a PENDING job whose dependency FAILED or was CANCELED (and any SUSPENDED
 * job). The dependency is looked up for each page's PENDING jobs (store/failed-dependencies.ts)
 * and, for a status filter, counted by count(*) beside the tallied states (api/scale/job-list.ts).
 */

for (const database of TEST_DATABASES) {
  describe(`Scale v6 BLOCKED by a dependency (${database.name})`, () => {
    let t: TestServer;
    const jobs: Record<string, any> = {};
    const list = async (query: string) =>
      expectStatus(await t.request('GET', `/v6/jobs/${query}`), 200).body;
    const ids = (body: any) => body.results.map((j: any) => j.id);

    before(async () => {
      t = await startTestServer(database);
      const type = await createJobType(
        t,
        manifest('blocking', { job: { interface: { command: 'true', inputs: {} } } }),
      );
      const dependent = async (on: number) =>
        expectStatus(
          await t.request('POST', '/api/v1/jobs', {
            type: 'blocking',
            typeVersion: '1.0.0',
            dependencies: [on],
            onDependencyFailure: 'WAIT',
          }),
          201,
        ).body;
      jobs.canceled = await queue(t, { job_type_id: type.id, input: {} });
      jobs.waiting = await queue(t, { job_type_id: type.id, input: {} });
      jobs.blocked = await dependent(jobs.canceled.id);
      jobs.pending = await dependent(jobs.waiting.id);
      expectStatus(await t.request('POST', `/api/v1/jobs/${jobs.canceled.id}/cancel`), 200);
    });
    after(async () => {
      await t?.close();
    });

    it('shows a PENDING job whose dependency was canceled as BLOCKED, and finds and counts it so', async () => {
      const native = (id: number) => t.request('GET', `/api/v1/jobs/${id}`);
      assert.equal((await native(jobs.blocked.id)).body.state, 'PENDING');
      const status = async (id: number) => (await list(`?job_id=${id}`)).results[0].status;
      assert.equal(await status(jobs.blocked.id), 'BLOCKED');
      assert.equal(await status(jobs.pending.id), 'PENDING');
      for (const [filter, expected] of [
        ['status=BLOCKED', [jobs.blocked.id]],
        ['status=PENDING', [jobs.pending.id]],
        [
          'status=PENDING&status=BLOCKED&status=CANCELED&order=id',
          [jobs.canceled.id, jobs.blocked.id, jobs.pending.id],
        ],
      ] as const) {
        const tallied = await list(`?${filter}`);
        assert.deepEqual(ids(tallied), expected, filter);
        assert.equal(tallied.count, expected.length, filter);
        const counted = await list(`?job_type_name=blocking&${filter}`);
        assert.equal(counted.count, expected.length, `${filter}, by count(*)`);
      }
    });
  });
}
