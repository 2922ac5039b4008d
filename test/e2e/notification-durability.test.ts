import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../helpers/eventually.js';
import { WebhookReceiver } from '../helpers/notification-sinks.js';
import {
  buildOnce,
  freePort,
  kill9,
  startServe,
  targets,
  type Child,
} from '../helpers/serve-process.js';

/*
 * A notification survives a kill -9 of the server between the job's end and the delivery
 * (issue 17): the job is canceled while the receiver is down, the server is killed, the
 * receiver comes up and a fresh server on the same database delivers it, exactly once.
 */

async function call(url: string, method: string, path: string, body?: unknown) {
  const res = await fetch(url + path, {
    method,
    ...(body !== undefined
      ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }
      : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

for (const target of targets) {
  describe(`notifications across kill -9 (${target.name})`, () => {
    let dataDir: string;
    let db: string | undefined;
    let cleanup: () => Promise<void> = async () => {};
    let child: Child | undefined;
    const receiver = new WebhookReceiver();

    before(async () => {
      buildOnce();
      dataDir = mkdtempSync(join(tmpdir(), 'drover-notify-'));
      ({ db, cleanup } = await target.setUp());
      // The receiver's port is chosen now but nothing listens on it until after the kill.
      receiver.port = await freePort();
    });
    after(async () => {
      await kill9(child);
      await receiver.stop();
      await cleanup();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('delivers the notification once after the restart', async () => {
      const port = await freePort();
      // A short attempt timeout: the first server may die holding the claim of the first
      // attempt, which lasts three timeouts (30 s at the default).
      child = await startServe(dataDir, port, db, ['--notification-timeout-seconds', '2']);
      const rule = await call(child.url, 'POST', '/api/v1/notification-rules', {
        events: ['job.canceled'],
        channel: 'webhook',
        target: receiver.url,
        global: true,
      });
      assert.equal(rule.status, 201, JSON.stringify(rule.body));
      const job = await call(child.url, 'POST', '/api/v1/jobs', {
        type: 'command-line',
        name: 'told after a crash',
        frames: '1',
        parameters: { executable: 'true' },
      });
      assert.equal(job.status, 201, JSON.stringify(job.body));
      const canceled = await call(child.url, 'POST', `/api/v1/jobs/${job.body.id}/cancel`);
      assert.equal(canceled.status, 200, JSON.stringify(canceled.body));
      await kill9(child);
      child = undefined;
      assert.equal(receiver.received.length, 0);

      await receiver.start();
      child = await startServe(dataDir, port, db, ['--notification-timeout-seconds', '2']);
      const url = child.url;
      await eventually(async () => {
        const res = await call(url, 'GET', `/api/v1/notification-rules/${rule.body.id}/deliveries`);
        assert.equal(res.status, 200);
        assert.deepEqual(
          res.body.items.map((d: { state: string }) => d.state),
          ['DELIVERED'],
        );
      }, 90_000);
      assert.equal(receiver.received.length, 1);
      const body = JSON.parse(receiver.received[0]!.body);
      assert.equal(body.event, 'job.canceled');
      assert.equal(body.job.id, job.body.id);
      assert.equal(body.job.name, 'told after a crash');
    });
  });
}
