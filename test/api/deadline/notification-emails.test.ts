/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../../helpers/databases.js';
import { startSmtpSink } from '../../helpers/notification-sinks.js';
import {
  commandBody,
  expectDeadlineError,
  idNumber,
  startDeadlineTestServer,
  submitDeadline,
  type DeadlineTestServer,
} from './support.js';

/*
 * Deadline's job completion notification (JobInfo NotificationEmails, with
 * OverrideNotificationMethod and EmailNotification) becomes email rules on the one job: the
 * mail reaches a real SMTP sink when that job completes, and only then.
 */

for (const database of TEST_DATABASES) {
  describe(`Deadline: NotificationEmails (${database.name})`, () => {
    let t: DeadlineTestServer;
    let bare: DeadlineTestServer;
    let sink: Awaited<ReturnType<typeof startSmtpSink>>;
    before(async () => {
      sink = await startSmtpSink();
      t = await startDeadlineTestServer(database, {
        smtp: { url: sink.url, from: 'deadline@farm.test' },
      });
      bare = await startDeadlineTestServer(database);
    });
    after(async () => {
      await t?.close();
      await bare?.close();
      await sink?.close();
    });

    const complete = async (s: DeadlineTestServer, id: string) => {
      const res = await s.dl('PUT', '/api/jobs', commandBody('complete', id));
      assert.equal(res.status, 200, res.text);
    };

    it('mails each address when the job completes, and no other job', async () => {
      const watched = await submitDeadline(t, {
        Name: 'mail me',
        Frames: '1',
        NotificationEmails: 'lead@farm.test, comp@farm.test',
        EmailNotification: 'True',
      });
      const other = await submitDeadline(t, { Name: 'quiet', Frames: '1' });
      const rules = (await t.request('GET', '/api/v1/notification-rules')).body.items;
      assert.deepEqual(rules.map((r: any) => [r.jobId, r.channel, r.target, r.events]).sort(), [
        [idNumber(watched._id), 'email', 'comp@farm.test', ['job.completed']],
        [idNumber(watched._id), 'email', 'lead@farm.test', ['job.completed']],
      ]);
      assert.deepEqual(watched.Props.NotEmail, ['lead@farm.test', 'comp@farm.test']);
      await complete(t, other._id);
      await complete(t, watched._id);
      assert.equal((await t.engine.notifications.tick()).delivered, 2);
      assert.deepEqual(sink.mails.map((m) => m.to[0]).sort(), ['comp@farm.test', 'lead@farm.test']);
      for (const mail of sink.mails) {
        assert.match(
          mail.data,
          new RegExp(`Subject: \\[Drover\\] job ${idNumber(watched._id)} mail me completed`),
        );
      }
    });

    it('sends nothing when the submitter turned email off', async () => {
      sink.mails.length = 0;
      const job = await submitDeadline(t, {
        Name: 'no mail',
        Frames: '1',
        NotificationEmails: 'lead@farm.test',
        OverrideNotificationMethod: true,
        EmailNotification: false,
      });
      await complete(t, job._id);
      assert.equal((await t.engine.notifications.tick()).delivered, 0);
      assert.equal(sink.mails.length, 0);
    });

    it('refuses addresses it cannot mail, before making the job', async () => {
      const before = (await bare.request('GET', '/api/v1/jobs')).body.total;
      const noSmtp = await bare.dl('POST', '/api/jobs', {
        JobInfo: { Plugin: 'CommandLine', Name: 'x', Frames: '1', NotificationEmails: 'a@b.c' },
        PluginInfo: { Executable: '/bin/echo' },
        AuxFiles: [],
      });
      expectDeadlineError(noSmtp, 400, /NotificationEmails needs an SMTP server.*--smtp-url/);
      assert.equal((await bare.request('GET', '/api/v1/jobs')).body.total, before);
      const bad = await t.dl('POST', '/api/jobs', {
        JobInfo: { Plugin: 'CommandLine', Name: 'x', Frames: '1', NotificationEmails: 'not mail' },
        PluginInfo: { Executable: '/bin/echo' },
        AuxFiles: [],
      });
      expectDeadlineError(bad, 400, /"not mail" is not an email address/);
    });
  });
}
