import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startDeadlineTestServer, type DeadlineTestServer } from './deadline/support.js';
import { expectStatus, submit } from './support.js';

/*
 * Issue 12, point 5: a job written through one face and changed through another must read
 * through every face. A native job cancelled and then requeued through Scale held Scale data
 * without `input`, and every later /jobs/updates/ answered 500. Jobs are written through
 * the native face and Deadline, changed through Scale's bulk requeue, and every list and
 * detail of every face is read after each change.
 */

for (const database of TEST_DATABASES) {
  describe(`writes through one face, reads through all (${database.name})`, () => {
    let t: DeadlineTestServer;
    before(async () => {
      t = await startDeadlineTestServer(database);
    });
    after(async () => {
      await t?.close();
    });

    async function readEverywhere(ids: number[], when: string) {
      const reads = [
        '/api/v1/jobs',
        '/v6/jobs/',
        '/jobs/',
        '/jobs/updates/',
        '/v5/jobs/updates/',
        '/jobs/executions/',
        ...ids.flatMap((id) => [`/api/v1/jobs/${id}`, `/v6/jobs/${id}/`, `/jobs/${id}/`]),
      ];
      for (const path of reads) {
        const res = await t.request('GET', path);
        assert.ok(res.status < 500, `${when}: GET ${path} answered ${res.status}`);
      }
      const deadline = await t.dl('GET', '/api/jobs');
      assert.equal(deadline.status, 200, `${when}: Deadline list: ${deadline.text}`);
    }

    it('a native and a Deadline job, cancelled and requeued through Scale, read everywhere', async () => {
      const native = await submit(t, {});
      const dl = await t.dl('POST', '/api/jobs', {
        JobInfo: { Plugin: 'CommandLine', Name: 'dl' },
        PluginInfo: { Executable: '/bin/true' },
        AuxFiles: [],
      });
      assert.equal(dl.status, 200, dl.text);
      const listed = expectStatus(await t.request('GET', '/api/v1/jobs?limit=10'), 200).body;
      const ids: number[] = listed.items.map((j: { id: number }) => j.id);
      assert.ok(ids.includes(native.id));
      await readEverywhere(ids, 'submitted');
      for (const id of ids) {
        expectStatus(await t.request('POST', `/api/v1/jobs/${id}/cancel`), 200);
      }
      await readEverywhere(ids, 'cancelled');
      const requeued = await t.request('POST', '/v6/jobs/requeue/', { job_ids: ids });
      assert.equal(requeued.status, 202);
      // The requeue runs after the answer; wait until it has put the jobs back.
      for (let i = 0; i < 100; i++) {
        const states = await Promise.all(
          ids.map(async (id) => (await t.request('GET', `/api/v1/jobs/${id}`)).body.state),
        );
        if (states.every((s) => s !== 'CANCELED')) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      await readEverywhere(ids, 'requeued through Scale');
      const updates = expectStatus(await t.request('GET', '/jobs/updates/'), 200).body;
      assert.ok(updates.results.length >= ids.length);
    });
  });
}
