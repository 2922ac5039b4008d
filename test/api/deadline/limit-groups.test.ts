import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../../helpers/databases.js';
import { acquire, expectStatus, register } from '../support.js';
import {
  type DeadlineTestServer,
  nativeJob,
  startDeadlineTestServer,
  submitDeadline,
} from './support.js';

/*
 * Deadline's LimitGroups are the engine's limits: enforced at acquire. As in Deadline, a
 * submission may name a limit not made yet; the job then waits until it is.
 */

for (const database of TEST_DATABASES) {
  describe(`Deadline: LimitGroups (${database.name})`, () => {
    let t: DeadlineTestServer;
    before(async () => {
      t = await startDeadlineTestServer(database);
    });
    after(async () => {
      await t?.close();
    });

    it('a job submitted with LimitGroups takes no more than the limit allows', async () => {
      expectStatus(await t.request('POST', '/api/v1/limits', { name: 'nuke', maxCount: 1 }), 201);
      const job = await submitDeadline(t, { Name: 'comp', Frames: '1-3', LimitGroups: 'Nuke' });
      const native = await nativeJob(t, job._id);
      assert.deepEqual(native.limits, ['nuke']);
      const shown = expectStatus(await t.dl('GET', `/api/jobs?JobID=${job._id}`), 200).body;
      assert.deepEqual(shown[0].Props.Limits, ['nuke']);
      const a = await register(t, 'lg-a');
      const b = await register(t, 'lg-b');
      assert.equal((await acquire(t, a.id))?.job.id, native.id);
      assert.equal(await acquire(t, b.id), undefined, 'the one nuke licence is in use');
    });

    it('an unknown limit is kept, and the job waits until the limit is made', async () => {
      const job = await submitDeadline(t, { Name: 'vray', Frames: '1', LimitGroups: 'vray,nuke2' });
      const native = await nativeJob(t, job._id);
      const c = await register(t, 'lg-c');
      assert.equal(await acquire(t, c.id), undefined);
      const reasons = (await t.request('GET', `/api/v1/jobs/${native.id}/waiting-reasons`)).body
        .reasons;
      assert.deepEqual(
        reasons.map((r: { code: string }) => r.code),
        ['LIMIT_MISSING', 'LIMIT_MISSING'],
      );
      expectStatus(await t.request('POST', '/api/v1/limits', { name: 'vray', maxCount: 4 }), 201);
      expectStatus(await t.request('POST', '/api/v1/limits', { name: 'nuke2', maxCount: 4 }), 201);
      assert.equal((await acquire(t, c.id))?.job.id, native.id);
    });
  });
}
