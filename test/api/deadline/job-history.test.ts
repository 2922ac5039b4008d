/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addUser, createToken } from '../../../src/engine/accounts/accounts.js';
import { TEST_DATABASES } from '../../helpers/databases.js';
import { eventually } from '../../helpers/eventually.js';
import { expectStatus } from '../support.js';
import {
  expectDeadlineError,
  expectSuccess,
  startDeadlineTestServer,
  type DeadlineTestServer,
} from './support.js';

/*
 * Issue 13, point 7: `/api/jobreports?Data=history` (JobReports.GetJobHistoryEntries) is the
 * job's submission, every change a person made to it through any face (the audit trail,
 * refusals left out) and its end, oldest first.
 */

const basic = (user: string) => `Basic ${Buffer.from(`${user}:${user}-pw`).toString('base64')}`;

for (const database of TEST_DATABASES) {
  describe(`Deadline: job history entries (${database.name})`, () => {
    let t: DeadlineTestServer;
    let alice: Record<string, string>;
    let bob: Record<string, string>;
    before(async () => {
      t = await startDeadlineTestServer(database, { auth: true });
      await addUser(t.engine.ctx, 'alice', 'user', 'alice-pw');
      await addUser(t.engine.ctx, 'bob', 'user', 'bob-pw');
      alice = { authorization: `Bearer ${await createToken(t.engine.ctx, 'alice')}` };
      bob = { authorization: `Bearer ${await createToken(t.engine.ctx, 'bob')}` };
    });
    after(async () => {
      await t?.close();
    });

    const history = async (jobId: string, user = 'alice') => {
      const res = await t.dl('GET', `/api/jobreports?JobID=${jobId}&Data=history`, undefined, {
        auth: basic(user),
      });
      assert.equal(res.status, 200, res.text);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      return res.body as any[];
    };

    it('the submission, every change by any face, and the end, oldest first', async () => {
      const submitted = await t.dl(
        'POST',
        '/api/jobs',
        {
          JobInfo: { Plugin: 'CommandLine', Name: 'history', Frames: '1-2' },
          PluginInfo: { Executable: '/bin/true' },
          AuxFiles: [],
        },
        { auth: basic('alice') },
      );
      assert.equal(submitted.status, 200, submitted.text);
      const dlId: string = submitted.body._id;
      const id = parseInt(dlId, 16);

      const first = await history(dlId);
      assert.deepEqual(first, [
        {
          Job: dlId,
          Date: submitted.body.Date,
          Title: 'Job submitted by alice',
          User: 'alice',
          Mach: '',
          JobName: 'history',
          JobUser: 'alice',
          _id: `${dlId}_h0`,
        },
      ]);

      // A save names its job inside the document.
      const [doc] = (
        await t.dl('GET', `/api/jobs?JobID=${dlId}`, undefined, { auth: basic('alice') })
      ).body;
      expectSuccess(
        await t.dl(
          'PUT',
          '/api/jobs',
          { Command: 'save', Job: { ...doc, Props: { ...doc.Props, Cmmt: 'noted' } } },
          { auth: basic('alice') },
        ),
      );
      // A Deadline suspend, by the decimal native id the Deadline face accepts too.
      expectSuccess(
        await t.dl(
          'PUT',
          '/api/jobs',
          { Command: 'suspend', JobID: String(id) },
          {
            auth: basic('alice'),
          },
        ),
      );
      expectStatus(await t.request('POST', `/api/v1/jobs/${id}/resume`, undefined, alice), 200);
      // Refused: bob may not change alice's job. Not history.
      assert.equal(
        (await t.request('POST', `/api/v1/jobs/${id}/cancel`, undefined, bob)).status,
        403,
      );
      expectSuccess(
        await t.dl(
          'PUT',
          '/api/jobs',
          { Command: 'complete', JobID: dlId },
          { auth: basic('alice') },
        ),
      );

      await eventually(async () => {
        const entries = await history(dlId);
        assert.deepEqual(
          entries.map((e) => [e.Title, e.User, e.Mach]),
          [
            ['Job submitted by alice', 'alice', ''],
            ['Job save by alice via deadline', 'alice', '127.0.0.1'],
            ['Job suspend by alice via deadline', 'alice', '127.0.0.1'],
            ['Job resume by alice via native', 'alice', '127.0.0.1'],
            ['Job complete by alice via deadline', 'alice', '127.0.0.1'],
            ['Job completed', '', ''],
          ],
        );
        assert.deepEqual(
          entries.map((e) => e._id),
          [0, 1, 2, 3, 4, 5].map((n) => `${dlId}_h${n}`),
        );
        for (const e of entries) {
          assert.equal(e.Job, dlId);
          assert.match(e.Date, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
        }
        const dates = entries.map((e) => Date.parse(e.Date));
        assert.deepEqual(
          dates,
          [...dates].sort((a, b) => a - b),
        );
      });

      // The same through the native audit trail: one record, two views.
      const audit = expectStatus(
        await t.request('GET', `/api/v1/audit?jobId=${id}`, undefined, alice),
        200,
      ).body.items as any[];
      assert.deepEqual(
        audit.map((a) => a.action),
        ['complete', 'cancel', 'resume', 'suspend', 'save'],
      );

      // A requeue undoes the end: the job is no longer completed.
      expectSuccess(
        await t.dl(
          'PUT',
          '/api/jobs',
          { Command: 'requeue', JobID: dlId },
          { auth: basic('alice') },
        ),
      );
      // A task's change is its job's: native task actions and Deadline's task commands.
      const tasks = expectStatus(
        await t.request('GET', `/api/v1/jobs/${id}/tasks`, undefined, alice),
        200,
      ).body.items as any[];
      expectStatus(
        await t.request('POST', `/api/v1/tasks/${tasks[0].id}/suspend`, undefined, alice),
        200,
      );
      expectSuccess(
        await t.dl(
          'PUT',
          '/api/tasks',
          { Command: 'resume', JobID: dlId, TaskList: 0 },
          { auth: basic('alice') },
        ),
      );
      await eventually(async () => {
        const titles = (await history(dlId)).map((e) => e.Title);
        assert.deepEqual(titles.slice(-4), [
          'Job complete by alice via deadline',
          'Job requeue by alice via deadline',
          'Job suspend by alice via native',
          'Job resume by alice via deadline',
        ]);
      });
    });

    it('errors as for the other Data values', async () => {
      expectDeadlineError(
        await t.dl('GET', '/api/jobreports?Data=history', undefined, { auth: basic('alice') }),
        400,
        /JobID/,
      );
      expectDeadlineError(
        await t.dl(
          'GET',
          '/api/jobreports?JobID=0000000000000000000fffff&Data=history',
          undefined,
          {
            auth: basic('alice'),
          },
        ),
        500,
        /does not correspond to a Job/,
      );
    });
  });
}
