import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SIGNATURE_HEADER } from '../../src/domain/notifications.js';
import type { Principal } from '../../src/engine/accounts/accounts.js';
import { ManualClock } from '../../src/engine/clock.js';
import { inTransaction } from '../../src/engine/context.js';
import { startEngine, type Engine, type EngineOptions } from '../../src/engine/engine.js';
import { completeExecution } from '../../src/engine/executions/execution-reports.js';
import { applyJobAction, lockedJob } from '../../src/engine/jobs/job-actions.js';
import { submitJob } from '../../src/engine/jobs/job-submission.js';
import { registerNode } from '../../src/engine/nodes/node-registry.js';
import { createNotificationRule } from '../../src/engine/notifications/notification-rules.js';
import { changeJobState } from '../../src/engine/state-changes.js';
import { JOB_DEFINITION_FORMATS } from '../../src/formats/index.js';
import { findJob } from '../../src/store/jobs.js';
import { TEST_DATABASES, type TestDatabase } from '../helpers/databases.js';
import { eventually } from '../helpers/eventually.js';
import { startSmtpSink, WebhookReceiver } from '../helpers/notification-sinks.js';

/*
 * Notifications (issue 17): the outbox row commits with the job's end, the deliverer sends
 * it to a real HTTP receiver (signed) or a real SMTP sink, retries with growing waits, and
 * never sends one twice, across a restart and between two deliverers. The clock is moved by
 * hand and the deliverer ticked by hand: the assertions count requests, never time them.
 */

const SECRET = 'a-test-secret-of-some-length';
const BASE_MS = 1_000;
const SETTINGS = {
  notificationRetryBaseMs: BASE_MS,
  notificationRetryMaxMs: 60_000,
  notificationMaxAttempts: 4,
  notificationTimeoutMs: 5_000,
};

const user = (name: string): Principal => ({ id: 0, name, role: 'user' });
const admin: Principal = { id: 0, name: 'root', role: 'admin' };

const sign = (body: string) => `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;

interface Farm {
  engine: Engine;
  clock: ManualClock;
  db: Pick<EngineOptions, 'url' | 'schema'>;
  restart(options?: Partial<EngineOptions>): Promise<void>;
  close(): Promise<void>;
}

async function startFarm(
  database: TestDatabase,
  options: Partial<EngineOptions> = {},
): Promise<Farm> {
  const { options: db, cleanup } = await database.fresh();
  const clock = new ManualClock();
  const open = (more: Partial<EngineOptions>) =>
    startEngine({
      ...db,
      clock: clock.read,
      formats: JOB_DEFINITION_FORMATS,
      settings: SETTINGS,
      ...more,
    });
  const farm: Farm = {
    engine: await open(options),
    clock,
    db,
    async restart(more = options) {
      await farm.engine.close();
      farm.engine = await open(more);
    },
    async close() {
      await farm.engine.close();
      await cleanup();
    },
  };
  return farm;
}

async function webhookRule(engine: Engine, owner: Principal, url: string, global = false) {
  return createNotificationRule(
    engine.ctx,
    owner,
    {
      events: ['job.completed', 'job.failed', 'job.canceled'],
      channel: 'webhook',
      target: url,
      secret: SECRET,
      ...(global ? { global } : {}),
    },
    { emailConfigured: engine.emailConfigured },
  );
}

const submit = (engine: Engine, userName: string) =>
  submitJob(engine.ctx, {
    type: 'command-line',
    user: userName,
    name: `job of ${userName}`,
    frames: '1-2',
    parameters: { executable: 'echo' },
  });

async function runToCompletion(engine: Engine, jobId: number): Promise<void> {
  const node = await registerNode(engine.ctx, { name: `n-${jobId}` });
  for (;;) {
    const got = await engine.dispatcher.tryAcquire(node.id);
    if (!got) break;
    await completeExecution(engine.ctx, engine.settings, got.execution.id, node.id);
  }
  assert.equal((await findJob(engine.ctx.db, jobId))?.state, 'COMPLETED');
}

const outbox = (engine: Engine) =>
  engine.ctx.db.selectFrom('notification_outbox').selectAll().orderBy('id').execute();

for (const database of TEST_DATABASES) {
  describe(`notifications (${database.name})`, () => {
    const receiver = new WebhookReceiver();
    before(() => receiver.start());
    after(() => receiver.stop());
    const fresh = () => {
      receiver.received.length = 0;
      receiver.statuses = [];
    };

    it('a completed job sends one signed webhook', async () => {
      fresh();
      const farm = await startFarm(database);
      try {
        await webhookRule(farm.engine, user('alice'), receiver.url);
        const jobId = await submit(farm.engine, 'alice');
        await runToCompletion(farm.engine, jobId);
        assert.deepEqual(await farm.engine.notifications.tick(), {
          delivered: 1,
          retried: 0,
          failed: 0,
        });
        assert.deepEqual(await farm.engine.notifications.tick(), {
          delivered: 0,
          retried: 0,
          failed: 0,
        });
        assert.equal(receiver.received.length, 1);
        const [got] = receiver.received;
        assert.equal(got!.headers[SIGNATURE_HEADER.toLowerCase()], sign(got!.body));
        assert.equal(got!.headers['x-drover-event'], 'job.completed');
        const body = JSON.parse(got!.body);
        assert.equal(body.event, 'job.completed');
        assert.equal(body.job.id, jobId);
        assert.equal(body.job.name, 'job of alice');
        assert.equal(body.job.state, 'COMPLETED');
        assert.equal(body.job.user, 'alice');
        assert.ok(body.job.endedAt);
        assert.equal(typeof body.deliveryId, 'number');
        const rows = await outbox(farm.engine);
        assert.deepEqual(
          rows.map((r) => [r.state, r.attempts]),
          [['DELIVERED', 1]],
        );
      } finally {
        await farm.close();
      }
    });

    it('a receiver answering 500 is retried after doubling waits, then succeeds', async () => {
      fresh();
      receiver.statuses = [500, 500, 500];
      const farm = await startFarm(database);
      const { notifications } = farm.engine;
      try {
        await webhookRule(farm.engine, user('alice'), receiver.url);
        await applyJobAction(farm.engine.ctx, await submit(farm.engine, 'alice'), 'cancel');
        assert.equal((await notifications.tick()).retried, 1);
        // After the n-th failure the next attempt is due BASE_MS * 2^(n-1) later, not sooner.
        for (const wait of [BASE_MS, 2 * BASE_MS, 4 * BASE_MS]) {
          const before = receiver.received.length;
          farm.clock.advance(wait - 1);
          assert.deepEqual(await notifications.tick(), { delivered: 0, retried: 0, failed: 0 });
          assert.equal(receiver.received.length, before, `nothing sent before ${wait} ms`);
          farm.clock.advance(1);
          const result = await notifications.tick();
          assert.equal(receiver.received.length, before + 1);
          assert.equal(result.delivered + result.retried, 1);
        }
        assert.equal(receiver.received.length, 4);
        assert.equal(
          new Set(receiver.received.map((r) => r.body)).size,
          1,
          'the same body each time',
        );
        const rows = await outbox(farm.engine);
        assert.deepEqual(
          rows.map((r) => [r.state, r.attempts]),
          [['DELIVERED', 4]],
        );
      } finally {
        await farm.close();
      }
    });

    it('gives up after the last attempt and marks the notification FAILED', async () => {
      fresh();
      receiver.statuses = Array(10).fill(500);
      const farm = await startFarm(database);
      try {
        await webhookRule(farm.engine, user('alice'), receiver.url);
        await applyJobAction(farm.engine.ctx, await submit(farm.engine, 'alice'), 'cancel');
        for (let i = 0; i < 6; i++) {
          await farm.engine.notifications.tick();
          farm.clock.advance(60_000);
        }
        assert.equal(receiver.received.length, SETTINGS.notificationMaxAttempts);
        const [row] = await outbox(farm.engine);
        assert.equal(row!.state, 'FAILED');
        assert.match(row!.last_error ?? '', /answered 500/);
      } finally {
        await farm.close();
      }
    });

    it("a user's rule fires for their jobs only; a global rule for everyone's", async () => {
      fresh();
      const farm = await startFarm(database);
      try {
        await webhookRule(farm.engine, user('alice'), `${receiver.url}?alice`);
        await webhookRule(farm.engine, admin, `${receiver.url}?global`, true);
        const bobs = await submit(farm.engine, 'bob');
        await applyJobAction(farm.engine.ctx, bobs, 'cancel');
        const alices = await submit(farm.engine, 'alice');
        await applyJobAction(farm.engine.ctx, alices, 'cancel');
        assert.equal((await farm.engine.notifications.tick()).delivered, 3);
        const sent = receiver.received
          .map(
            (r) => `${JSON.parse(r.body).job.user}:${r.headers['x-drover-delivery'] ? 'ok' : '?'}`,
          )
          .sort();
        assert.deepEqual(sent, ['alice:ok', 'alice:ok', 'bob:ok']);
        const rows = await outbox(farm.engine);
        assert.deepEqual(
          rows.map((r) => r.job_id!).sort((a, b) => a - b),
          [bobs, alices, alices].sort((a, b) => a - b),
        );
      } finally {
        await farm.close();
      }
    });

    it('a rolled-back end writes no notification', async () => {
      fresh();
      const farm = await startFarm(database);
      try {
        await webhookRule(farm.engine, user('alice'), receiver.url);
        const jobId = await submit(farm.engine, 'alice');
        await assert.rejects(
          inTransaction(farm.engine.ctx, async (tx, emit) => {
            const job = await lockedJob(farm.engine.ctx, tx, jobId);
            await changeJobState(farm.engine.ctx, tx, emit, job, 'cancel');
            throw new Error('roll back');
          }),
          /roll back/,
        );
        assert.equal((await findJob(farm.engine.ctx.db, jobId))?.state, 'QUEUED');
        assert.equal((await outbox(farm.engine)).length, 0);
        assert.equal((await farm.engine.notifications.tick()).delivered, 0);
        assert.equal(receiver.received.length, 0);
      } finally {
        await farm.close();
      }
    });

    it('a notification committed before a restart arrives once after it', async () => {
      fresh();
      const farm = await startFarm(database);
      try {
        await webhookRule(farm.engine, user('alice'), receiver.url);
        // The receiver is down when the job ends: the attempt fails, the row stays PENDING.
        await receiver.stop();
        await applyJobAction(farm.engine.ctx, await submit(farm.engine, 'alice'), 'cancel');
        assert.equal((await farm.engine.notifications.tick()).retried, 1);
        await farm.restart();
        await receiver.start();
        farm.clock.advance(BASE_MS);
        assert.equal((await farm.engine.notifications.tick()).delivered, 1);
        farm.clock.advance(60_000);
        assert.equal((await farm.engine.notifications.tick()).delivered, 0);
        assert.equal(receiver.received.length, 1);
      } finally {
        await farm.close();
      }
    });

    it('a sender that died mid-send leaves its claim to come due again, sent once', async () => {
      fresh();
      const farm = await startFarm(database);
      try {
        await webhookRule(farm.engine, user('alice'), receiver.url);
        await applyJobAction(farm.engine.ctx, await submit(farm.engine, 'alice'), 'cancel');
        // A claim as a sender makes it, then the sender is gone before it sends or marks.
        await farm.engine.ctx.db
          .updateTable('notification_outbox')
          .set((eb) => ({
            attempts: eb('attempts', '+', 1),
            next_attempt_at: farm.clock.now + 15_000,
          }))
          .execute();
        await farm.restart();
        assert.equal((await farm.engine.notifications.tick()).delivered, 0, 'still claimed');
        farm.clock.advance(15_000);
        assert.equal((await farm.engine.notifications.tick()).delivered, 1);
        assert.equal(receiver.received.length, 1);
      } finally {
        await farm.close();
      }
    });

    it('two deliverers on one database send each notification once', async () => {
      fresh();
      const farm = await startFarm(database);
      const other = await startEngine({
        ...farm.db,
        clock: farm.clock.read,
        formats: JOB_DEFINITION_FORMATS,
        settings: SETTINGS,
      });
      try {
        await webhookRule(farm.engine, user('alice'), receiver.url);
        for (let i = 0; i < 12; i++) {
          await applyJobAction(farm.engine.ctx, await submit(farm.engine, 'alice'), 'cancel');
        }
        let delivered = 0;
        for (let round = 0; round < 3; round++) {
          const results = await Promise.all([
            farm.engine.notifications.tick(),
            other.notifications.tick(),
          ]);
          delivered += results.reduce((n, r) => n + r.delivered, 0);
        }
        assert.equal(delivered, 12);
        assert.equal(receiver.received.length, 12);
        const ids = receiver.received.map((r) => JSON.parse(r.body).deliveryId);
        assert.equal(new Set(ids).size, 12);
      } finally {
        await other.close();
        await farm.close();
      }
    });

    it('a job end that wrote notifications wakes the deliverer; one that wrote none is silent', async () => {
      fresh();
      // The timer would not tick within the test: only the wake-up can deliver.
      const farm = await startFarm(database, {
        startDeliverer: true,
        settings: { ...SETTINGS, notificationIntervalMs: 3_600_000 },
      });
      const queued: number[] = [];
      const unsubscribe = farm.engine.ctx.bus.subscribe((event) => {
        if (event.type === 'notification.queued') queued.push(event.jobId!);
      });
      try {
        await applyJobAction(farm.engine.ctx, await submit(farm.engine, 'bob'), 'cancel');
        await webhookRule(farm.engine, user('alice'), receiver.url);
        const alices = await submit(farm.engine, 'alice');
        await applyJobAction(farm.engine.ctx, alices, 'cancel');
        await eventually(() => assert.equal(receiver.received.length, 1));
        assert.deepEqual(queued, [alices], "bob's job, with no rule, woke nobody");
        assert.equal(JSON.parse(receiver.received[0]!.body).job.id, alices);
      } finally {
        unsubscribe();
        await farm.close();
      }
    });

    it('an email rule sends a mail to the SMTP sink', async () => {
      const sink = await startSmtpSink();
      const farm = await startFarm(database, { smtp: { url: sink.url, from: 'drover@farm.test' } });
      try {
        await createNotificationRule(
          farm.engine.ctx,
          user('alice'),
          { events: ['job.canceled'], channel: 'email', target: 'alice@farm.test' },
          { emailConfigured: farm.engine.emailConfigured },
        );
        const jobId = await submit(farm.engine, 'alice');
        await applyJobAction(farm.engine.ctx, jobId, 'cancel');
        assert.equal((await farm.engine.notifications.tick()).delivered, 1);
        assert.equal(sink.mails.length, 1);
        const [mail] = sink.mails;
        assert.equal(mail!.from, 'drover@farm.test');
        assert.deepEqual(mail!.to, ['alice@farm.test']);
        assert.match(
          mail!.data,
          new RegExp(`Subject: \\[Drover\\] job ${jobId} job of alice was canceled`),
        );
        assert.match(mail!.data, /State: CANCELED/);
      } finally {
        await farm.close();
        await sink.close();
      }
    });
  });
}
