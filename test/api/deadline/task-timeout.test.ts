import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../../helpers/databases.js';
import { expectStatus, submit } from '../support.js';
import {
  deadlineId,
  type DeadlineTestServer,
  expectDeadlineError,
  expectSuccess,
  idNumber,
  nativeJob,
  startDeadlineTestServer,
  submitDeadline,
} from './support.js';

/*
 * JobInfo OnTaskTimeout (reference §6) is the job's taskTimeoutAction: Error and
 * ErrorAndNotify fail, Complete completes, Notify lets the task run. Props.Timeout shows
 * 0 Both, 1 Error, 2 Notify, 3 Complete, whichever face set the action.
 */

for (const database of TEST_DATABASES) {
  describe(`Deadline: OnTaskTimeout (${database.name})`, () => {
    let t: DeadlineTestServer;
    const put = (body: unknown) => t.dl('PUT', '/api/jobs', body);
    const get = async (id: string) => (await t.dl('GET', `/api/jobs?JobID=${id}`)).body[0];
    before(async () => {
      t = await startDeadlineTestServer(database);
    });
    after(async () => {
      await t?.close();
    });

    it('each OnTaskTimeout shows as its Props.Timeout code and is the native action', async () => {
      const cases: Array<[unknown, number, string]> = [
        [undefined, 1, 'FAIL'],
        ['Error', 1, 'FAIL'],
        ['ErrorAndNotify', 0, 'FAIL'],
        ['Both', 0, 'FAIL'],
        ['Notify', 2, 'NOTIFY'],
        ['Complete', 3, 'COMPLETE'],
        ['complete', 3, 'COMPLETE'],
        ['NOTIFY', 2, 'NOTIFY'],
        [2, 2, 'NOTIFY'],
        ['3', 3, 'COMPLETE'],
        [0, 0, 'FAIL'],
      ];
      for (const [onTimeout, code, action] of cases) {
        const job = await submitDeadline(t, {
          Name: `timeout ${String(onTimeout)}`,
          TaskTimeoutSeconds: 30,
          ...(onTimeout !== undefined ? { OnTaskTimeout: onTimeout } : {}),
        });
        assert.equal(job.Props.Timeout, code, `OnTaskTimeout ${String(onTimeout)}`);
        assert.equal(job.Props.MaxTime, 30);
        assert.equal((await get(job._id)).Props.Timeout, code);
        const native = await nativeJob(t, job._id);
        assert.equal(native.taskTimeoutAction, action, `OnTaskTimeout ${String(onTimeout)}`);
        assert.equal(native.taskTimeout, 30);
      }
    });

    it('an OnTaskTimeout Deadline does not have is a 400', async () => {
      const res = await t.dl('POST', '/api/jobs', {
        JobInfo: { Plugin: 'CommandLine', OnTaskTimeout: 'Retry' },
        PluginInfo: { Executable: '/bin/echo' },
        AuxFiles: [],
      });
      expectDeadlineError(
        res,
        400,
        /OnTaskTimeout must be Error, Notify, ErrorAndNotify or Complete/,
      );
    });

    it('a native job shows its action in Props.Timeout, and a native PATCH shows through', async () => {
      const native = await submit(t, { taskTimeout: 20, taskTimeoutAction: 'COMPLETE' });
      const id = deadlineId(native.id);
      assert.equal((await get(id)).Props.Timeout, 3);
      expectStatus(
        await t.request('PATCH', `/api/v1/jobs/${native.id}`, { taskTimeoutAction: 'NOTIFY' }),
        200,
      );
      assert.equal((await get(id)).Props.Timeout, 2);

      // A Deadline job whose submitter asked for ErrorAndNotify shows Both again when set back.
      const dl = await submitDeadline(t, { OnTaskTimeout: 'ErrorAndNotify' });
      expectStatus(
        await t.request('PATCH', `/api/v1/jobs/${idNumber(dl._id)}`, {
          taskTimeoutAction: 'COMPLETE',
        }),
        200,
      );
      assert.equal((await get(dl._id)).Props.Timeout, 3);
      expectStatus(
        await t.request('PATCH', `/api/v1/jobs/${idNumber(dl._id)}`, {
          taskTimeoutAction: 'FAIL',
        }),
        200,
      );
      assert.equal((await get(dl._id)).Props.Timeout, 0);
    });

    it('save with a new Props.Timeout changes the native action; the document round-trips', async () => {
      const job = await submitDeadline(t, { OnTaskTimeout: 'Error', TaskTimeoutSeconds: 5 });
      const doc = await get(job._id);
      assert.equal(doc.Props.Timeout, 1);

      // Saving the document as shown changes nothing.
      expectSuccess(await put({ Command: 'save', Job: doc }));
      assert.equal((await nativeJob(t, job._id)).taskTimeoutAction, 'FAIL');
      assert.equal((await get(job._id)).Props.Timeout, 1);

      for (const [code, action] of [
        [3, 'COMPLETE'],
        [2, 'NOTIFY'],
        [0, 'FAIL'],
        [1, 'FAIL'],
      ] as const) {
        const current = await get(job._id);
        current.Props.Timeout = code;
        expectSuccess(await put({ Command: 'save', Job: current }));
        assert.equal((await get(job._id)).Props.Timeout, code, `saved ${code}`);
        assert.equal((await nativeJob(t, job._id)).taskTimeoutAction, action, `saved ${code}`);
      }

      const bad = await get(job._id);
      bad.Props.Timeout = 7;
      expectDeadlineError(await put({ Command: 'save', Job: bad }), 400, /Props\.Timeout/);
      assert.equal((await nativeJob(t, job._id)).taskTimeoutAction, 'FAIL');
    });
  });
}
