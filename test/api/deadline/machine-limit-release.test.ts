import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../../helpers/databases.js';
import { acquire, expectStatus, register, report } from '../support.js';
import {
  type DeadlineTestServer,
  expectSuccess,
  nativeJob,
  startDeadlineTestServer,
  submitDeadline,
} from './support.js';

/*
 * Deadline's machine limit "release at task progress" (JobInfo MachineLimitProgress, the
 * setjobmachinelimit command's Progress): a node whose task has reported that much progress
 * no longer holds one of the job's machine-limit places, so another node may start on it.
 */

for (const database of TEST_DATABASES) {
  describe(`Deadline: machine limit released at task progress (${database.name})`, () => {
    let t: DeadlineTestServer;
    before(async () => {
      t = await startDeadlineTestServer(database);
    });
    after(async () => {
      await t?.close();
    });

    it('a second node starts on the job only once the first task passes the percentage', async () => {
      const job = await submitDeadline(t, {
        Name: 'released at 50',
        Frames: '1-3',
        MachineLimit: 1,
        MachineLimitProgress: 50,
      });
      const native = await nativeJob(t, job._id);
      assert.equal(native.machineLimit, 1);
      assert.equal(native.machineLimitRelease, 50);
      const a = await register(t, 'release-a');
      const b = await register(t, 'release-b');
      const first = await acquire(t, a.id);
      assert.equal(first.job.id, native.id);
      expectStatus(await report(t, first.execution.id, 'start', { nodeId: a.id }), 200);
      assert.equal(await acquire(t, b.id), undefined, 'the limit of one node is taken');

      expectStatus(
        await report(t, first.execution.id, 'progress', { nodeId: a.id, progress: 40 }),
        200,
      );
      assert.equal(await acquire(t, b.id), undefined, '40% is short of the release');

      expectStatus(
        await report(t, first.execution.id, 'progress', { nodeId: a.id, progress: 50 }),
        200,
      );
      const second = await acquire(t, b.id);
      assert.equal(second?.job.id, native.id, 'released at 50%: the other node starts');
    });

    it('setjobmachinelimit sets and clears the percentage; out of range is refused', async () => {
      const job = await submitDeadline(t, { Name: 'set later', Frames: '1-3' });
      const put = (body: Record<string, unknown>) =>
        t.dl('PUT', '/api/jobs', { Command: 'setjobmachinelimit', JobID: job._id, ...body });
      expectSuccess(await put({ Limit: 1, Progress: 75.5 }));
      assert.equal((await nativeJob(t, job._id)).machineLimitRelease, 75.5);
      const a = await register(t, 'later-a');
      const b = await register(t, 'later-b');
      const first = await acquire(t, a.id);
      expectStatus(await report(t, first.execution.id, 'start', { nodeId: a.id }), 200);
      expectStatus(
        await report(t, first.execution.id, 'progress', { nodeId: a.id, progress: 80 }),
        200,
      );
      expectSuccess(await put({ Progress: -1 }));
      assert.equal((await nativeJob(t, job._id)).machineLimitRelease, -1);
      assert.equal(await acquire(t, b.id), undefined, 'never released: the limit holds');
      expectSuccess(await put({ Progress: 80 }));
      assert.ok(await acquire(t, b.id), 'released at 80%');

      const refused = await put({ Progress: 150 });
      assert.equal(refused.status, 400);
      assert.match(refused.text, /machineLimitRelease/);
    });
  });
}
