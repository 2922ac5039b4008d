/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../../helpers/databases.js';
import {
  expectDeadlineError,
  expectSuccess,
  idNumber,
  nativeJob,
  startDeadlineTestServer,
  submitDeadline,
  type DeadlineTestServer,
} from './support.js';

/* Seed: Delete Jobs, Get Deleted Jobs, Get All Deleted Jobs, Purge, Undelete. */

for (const database of TEST_DATABASES) {
  describe(`Deadline: deleted jobs (${database.name})`, () => {
    let t: DeadlineTestServer;
    before(async () => {
      t = await startDeadlineTestServer(database);
    });
    after(async () => {
      await t?.close();
    });

    it('DELETE hides jobs, keeps them as deleted, and undelete brings them back', async () => {
      const a = await submitDeadline(t, { Name: 'a' });
      const b = await submitDeadline(t, { Name: 'b' });
      const c = await submitDeadline(t, { Name: 'c' });
      expectSuccess(await t.dl('DELETE', `/api/jobs?JobID=${a._id},${b._id}`));
      expectSuccess(await t.dl('DELETE', `/api/jobs?JobID=${c._id}`));
      assert.deepEqual((await t.dl('GET', '/api/jobs?IdOnly=true')).body, []);
      assert.equal((await nativeJob(t, a._id)).deleted, true);

      const all = await t.dl('GET', '/api/jobs?Deleted=true');
      assert.deepEqual(
        all.body.map((j: any) => j.Props.Name),
        ['a', 'b', 'c'],
      );
      const some = await t.dl('GET', `/api/jobs?Deleted=true&JobID=${b._id}`);
      assert.deepEqual(
        some.body.map((j: any) => j._id),
        [b._id],
      );
      const ids = await t.dl('GET', '/api/jobs?IdOnly=true&Deleted=true');
      assert.deepEqual(ids.body, [a._id, b._id, c._id]);

      expectSuccess(await t.dl('PUT', '/api/jobs', `{"Command":"undelete", "JobID":"${a._id}"}`));
      expectSuccess(await t.dl('PUT', '/api/jobs', { Command: 'undelete', JobIDs: [b._id] }));
      assert.deepEqual((await t.dl('GET', '/api/jobs?IdOnly=true')).body, [a._id, b._id]);
      assert.equal((await nativeJob(t, a._id)).deleted, false);

      expectSuccess(await t.dl('DELETE', `/api/jobs?Purge=true&JobID=${c._id}`));
      const gone = await t.request('GET', `/api/v1/jobs/${idNumber(c._id)}`);
      assert.equal(gone.status, 404);
      assert.deepEqual((await t.dl('GET', '/api/jobs?Deleted=true')).body, []);
    });

    it('errors: no ids, unknown ids, purging a job that is not deleted', async () => {
      const live = await submitDeadline(t, { Name: 'live' });
      expectDeadlineError(await t.dl('DELETE', '/api/jobs'), 400, /at least one job ID/);
      expectDeadlineError(await t.dl('DELETE', '/api/jobs?JobID=0000000000000000000fffff'), 500);
      expectDeadlineError(
        await t.dl('DELETE', `/api/jobs?Purge=true&JobID=${live._id}`),
        500,
        /not deleted/,
      );
      expectDeadlineError(
        await t.dl('GET', '/api/jobs?Deleted=true&JobID='),
        400,
        /deleted job ID/,
      );
      expectDeadlineError(await t.dl('PUT', '/api/jobs', { Command: 'undelete' }), 400, /job ID/);
      assert.equal((await nativeJob(t, live._id)).deleted, false);
    });
  });
}
