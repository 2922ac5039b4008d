/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import { WebhookReceiver } from '../helpers/notification-sinks.js';
import { api, buildOnce, drover, expectRun, submitJob } from './support.js';

/*
 * `drover notify`: rules added, listed, shown with their deliveries, switched off and on,
 * and removed through a real server; the server's refusals printed as it says them.
 */

for (const database of TEST_DATABASES) {
  describe(`drover notify (${database.name})`, () => {
    let t: TestServer;
    const receiver = new WebhookReceiver();
    before(async () => {
      await buildOnce();
      await receiver.start();
      t = await startTestServer(database);
    });
    after(async () => {
      await t?.close();
      await receiver.stop();
    });

    it('adds a webhook rule, prints its secret once, and the rule fires', async () => {
      const added = await drover(t, [
        'notify',
        'add',
        '--on',
        'job.canceled,task.failed',
        '--task-failures',
        '2',
        '--webhook',
        receiver.url,
      ]);
      expectRun(added, 0, /^rule (\d+) added: job\.canceled,task\.failed\(2\) → webhook /);
      const id = Number(/^rule (\d+)/.exec(added.stdout)![1]);
      const secret = /signing secret \(shown once\): (\S+)/.exec(added.stdout)![1]!;
      assert.ok(secret.length >= 16);

      const list = await drover(t, ['notify']);
      expectRun(list, 0, new RegExp(`^ID +FOR +EVENTS +CHANNEL +TARGET +ENABLED\\n +${id} +`));
      assert.match(list.stdout, /job\.canceled,task\.failed\(2\) +webhook/);

      const job = await submitJob(t, { name: 'told' });
      await api(t, 'POST', `/jobs/${job.id}/cancel`);
      assert.equal((await t.engine.notifications.tick()).delivered, 1);
      assert.equal(JSON.parse(receiver.received[0]!.body).job.id, job.id);

      const shown = await drover(t, ['notify', 'show', String(id)]);
      expectRun(shown, 0, /events: +job\.canceled,task\.failed\(2\)/);
      assert.match(shown.stdout, new RegExp(`job.canceled +job ${job.id} +DELIVERED +1 `));
      const json = await drover(t, ['notify', 'deliveries', String(id), '--json']);
      expectRun(json, 0);
      assert.deepEqual(
        JSON.parse(json.stdout).map((d: any) => [d.event, d.jobId, d.state]),
        [['job.canceled', job.id, 'DELIVERED']],
      );
    });

    it('switches a rule off and on, and removes it', async () => {
      const added = await drover(t, [
        'notify',
        'add',
        '--on',
        'job.failed',
        '--webhook',
        receiver.url,
        '--json',
      ]);
      expectRun(added, 0);
      const { id } = JSON.parse(added.stdout);
      expectRun(await drover(t, ['notify', 'disable', String(id)]), 0, `rule ${id} disabled\n`);
      assert.equal((await api(t, 'GET', `/notification-rules/${id}`)).enabled, false);
      expectRun(await drover(t, ['notify', 'enable', String(id)]), 0, `rule ${id} enabled\n`);
      assert.equal((await api(t, 'GET', `/notification-rules/${id}`)).enabled, true);
      expectRun(await drover(t, ['notify', 'rm', String(id)]), 0, `rule ${id} removed\n`);
      const gone = await t.request('GET', `/api/v1/notification-rules/${id}`);
      assert.equal(gone.status, 404);
    });

    it('says what is wrong', async () => {
      expectRun(
        await drover(t, ['notify', 'add', '--on', 'job.exploded', '--webhook', receiver.url]),
        1,
        '',
        /--on takes events .*not job\.exploded/,
      );
      expectRun(
        await drover(t, ['notify', 'add', '--on', 'job.failed']),
        1,
        '',
        /--webhook URL or --email ADDRESS/,
      );
      expectRun(
        await drover(t, ['notify', 'add', '--on', 'task.failed', '--webhook', receiver.url]),
        1,
        '',
        /task\.failed needs "taskFailures"/,
      );
      expectRun(await drover(t, ['notify', 'rm', '999']), 1, '', /notification rule 999/);
    });
  });
}
