import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Principal } from '../../src/engine/accounts/accounts.js';
import { ManualClock } from '../../src/engine/clock.js';
import { startEngine, type Engine, type EngineOptions } from '../../src/engine/engine.js';
import { failReportedExecution } from '../../src/engine/executions/execution-reports.js';
import { applyJobAction } from '../../src/engine/jobs/job-actions.js';
import { submitJob } from '../../src/engine/jobs/job-submission.js';
import { registerNode } from '../../src/engine/nodes/node-registry.js';
import {
  createNotificationRule,
  type RuleInput,
} from '../../src/engine/notifications/notification-rules.js';
import { JOB_DEFINITION_FORMATS } from '../../src/formats/index.js';
import { TEST_DATABASES, type TestDatabase } from '../helpers/databases.js';
import { WebhookReceiver } from '../helpers/notification-sinks.js';

/*
 * The notification triggers beyond a job's end (issue 17): a task failed N times, a node
 * lost, a job queued past a limit, a rule on one job, and the webhook host allow-list.
 * Clock moved by hand, deliverer and reaper ticked by hand; assertions count rows and
 * requests, never time them.
 */

const SETTINGS = {
  notificationRetryBaseMs: 1_000,
  notificationRetryMaxMs: 60_000,
  notificationMaxAttempts: 4,
  notificationTimeoutMs: 5_000,
};
const user = (name: string): Principal => ({ id: 0, name, role: 'user' });
const admin: Principal = { id: 0, name: 'root', role: 'admin' };

interface Farm {
  engine: Engine;
  clock: ManualClock;
  open(more?: Partial<EngineOptions>): Promise<Engine>;
  close(): Promise<void>;
}

async function startFarm(database: TestDatabase, more: Partial<EngineOptions> = {}) {
  const { options: db, cleanup } = await database.fresh();
  const clock = new ManualClock();
  const opened: Engine[] = [];
  const open = async (extra: Partial<EngineOptions> = {}) => {
    const engine = await startEngine({
      ...db,
      clock: clock.read,
      formats: JOB_DEFINITION_FORMATS,
      settings: SETTINGS,
      ...more,
      ...extra,
    });
    opened.push(engine);
    return engine;
  };
  const farm: Farm = {
    engine: await open(),
    clock,
    open,
    async close() {
      for (const e of opened.reverse()) await e.close();
      await cleanup();
    },
  };
  return farm;
}

const rule = (engine: Engine, who: Principal, input: Partial<RuleInput> & { target: string }) =>
  createNotificationRule(
    engine.ctx,
    who,
    { events: ['job.completed'], channel: 'webhook', ...input },
    { emailConfigured: engine.emailConfigured, webhookHosts: engine.webhookHosts },
  );

const submit = (engine: Engine, userName: string, more: { maxTries?: number } = {}) =>
  submitJob(engine.ctx, {
    type: 'command-line',
    user: userName,
    name: `job of ${userName}`,
    frames: '1',
    parameters: { executable: 'echo' },
    ...more,
  });

const outbox = (engine: Engine) =>
  engine.ctx.db.selectFrom('notification_outbox').selectAll().orderBy('id').execute();

const bodies = (receiver: WebhookReceiver) => receiver.received.map((r) => JSON.parse(r.body));

for (const database of TEST_DATABASES) {
  describe(`notification triggers (${database.name})`, () => {
    const receiver = new WebhookReceiver();
    before(() => receiver.start());
    after(() => receiver.stop());
    const fresh = () => {
      receiver.received.length = 0;
      receiver.statuses = [];
    };

    it("task.failed fires once when a task reaches the rule's count, for its owner only", async () => {
      fresh();
      const farm = await startFarm(database);
      const { engine } = farm;
      try {
        const two = await rule(engine, user('alice'), {
          events: ['task.failed'],
          taskFailures: 2,
          target: `${receiver.url}?two`,
        });
        const three = await rule(engine, user('alice'), {
          events: ['task.failed'],
          taskFailures: 3,
          target: `${receiver.url}?three`,
        });
        await rule(engine, user('bob'), {
          events: ['task.failed'],
          taskFailures: 1,
          target: `${receiver.url}?bob`,
        });
        const jobId = await submit(engine, 'alice', { maxTries: 3 });
        const node = await registerNode(engine.ctx, { name: 'n1' });
        const counts: number[] = [];
        for (let i = 0; i < 3; i++) {
          const got = await engine.dispatcher.tryAcquire(node.id);
          assert.ok(got, `attempt ${i + 1} dispatched`);
          await failReportedExecution(engine.ctx, got.execution.id, node.id, {
            message: `boom ${i + 1}`,
          });
          counts.push((await outbox(engine)).length);
        }
        assert.deepEqual(counts, [0, 1, 2], 'nothing at 1 failure, then one row per threshold');
        const rows = await outbox(engine);
        assert.deepEqual(
          rows.map((r) => [r.rule_id, r.event, r.job_id]),
          [
            [two.id, 'task.failed', jobId],
            [three.id, 'task.failed', jobId],
          ],
        );
        assert.equal((await engine.notifications.tick()).delivered, 2);
        const [atTwo, atThree] = bodies(receiver).sort((a, b) => a.task.failures - b.task.failures);
        assert.equal(atTwo.event, 'task.failed');
        assert.equal(atTwo.job.id, jobId);
        assert.equal(atTwo.task.failures, 2);
        assert.equal(atTwo.task.state, 'QUEUED', 'retried after the second failure');
        assert.equal(atTwo.task.errorMessage, 'boom 2');
        assert.equal(atThree.task.failures, 3);
        assert.equal(atThree.task.state, 'FAILED', 'out of tries after the third');
      } finally {
        await farm.close();
      }
    });

    it('node.lost fires once for a global rule when the reaper marks a node OFFLINE', async () => {
      fresh();
      const farm = await startFarm(database);
      const { engine } = farm;
      try {
        await assert.rejects(
          rule(engine, user('alice'), { events: ['node.lost'], target: receiver.url }),
          /only a global rule/,
        );
        await rule(engine, admin, { events: ['node.lost'], target: receiver.url, global: true });
        const node = await registerNode(engine.ctx, { name: 'n-lost', hostname: 'render-7' });
        assert.equal((await engine.reaper.tick()).nodesOffline, 0);
        farm.clock.advance(engine.settings.nodeTimeoutMs + 1);
        assert.equal((await engine.reaper.tick()).nodesOffline, 1);
        assert.equal((await engine.reaper.tick()).nodesOffline, 0);
        const rows = await outbox(engine);
        assert.deepEqual(
          rows.map((r) => [r.event, r.node_id, r.job_id]),
          [['node.lost', node.id, null]],
        );
        assert.equal((await engine.notifications.tick()).delivered, 1);
        const [body] = bodies(receiver);
        assert.equal(body.event, 'node.lost');
        assert.equal(body.node.id, node.id);
        assert.equal(body.node.hostname, 'render-7');
        assert.equal(body.job, undefined);
      } finally {
        await farm.close();
      }
    });

    it('job.queue-wait fires once per queueing past the limit, even with two replicas scanning', async () => {
      fresh();
      const farm = await startFarm(database);
      const { engine } = farm;
      const other = await farm.open();
      try {
        await rule(engine, user('alice'), {
          events: ['job.queue-wait'],
          queueWaitSeconds: 60,
          target: receiver.url,
        });
        const runs = await submit(engine, 'alice');
        await submit(engine, 'bob');
        const waits = await submit(engine, 'alice');
        const node = await registerNode(engine.ctx, { name: 'n1' });
        // The oldest job is dispatched first: it started, so it never waited past the limit.
        const got = await engine.dispatcher.tryAcquire(node.id);
        assert.equal(got?.execution.job_id, runs);
        farm.clock.advance(59_999);
        assert.deepEqual(await engine.notifications.tick(), {
          delivered: 0,
          retried: 0,
          failed: 0,
        });
        farm.clock.advance(1);
        const both = await Promise.all([engine.notifications.tick(), other.notifications.tick()]);
        assert.equal(both[0].delivered + both[1].delivered, 1);
        for (let i = 0; i < 3; i++) {
          farm.clock.advance(30_000);
          await Promise.all([engine.notifications.tick(), other.notifications.tick()]);
        }
        assert.equal(receiver.received.length, 1, 'announced once');
        const [body] = bodies(receiver);
        assert.equal(body.event, 'job.queue-wait');
        assert.equal(body.job.id, waits, "alice's job that is still QUEUED");
        assert.equal(body.queueWait.limitSeconds, 60);
        assert.equal(body.queueWait.waitedSeconds, 60);
        assert.equal((await outbox(engine)).length, 1);
      } finally {
        await farm.close();
      }
    });

    it('a rule on one job hears that job only; a user may watch only their own', async () => {
      fresh();
      const farm = await startFarm(database);
      const { engine } = farm;
      try {
        const watched = await submit(engine, 'alice');
        const unwatched = await submit(engine, 'alice');
        await assert.rejects(
          rule(engine, user('bob'), {
            events: ['job.canceled'],
            jobId: watched,
            target: receiver.url,
          }),
          /another user/,
        );
        const made = await rule(engine, user('alice'), {
          events: ['job.canceled'],
          jobId: watched,
          target: receiver.url,
        });
        assert.equal(made.jobId, watched);
        assert.equal(made.owner, 'alice');
        await applyJobAction(engine.ctx, unwatched, 'cancel');
        await applyJobAction(engine.ctx, watched, 'cancel');
        assert.equal((await engine.notifications.tick()).delivered, 1);
        assert.deepEqual(
          bodies(receiver).map((b) => b.job.id),
          [watched],
        );
        // Rules on a job have their own cap of 10.
        for (let i = 1; i < 10; i++) {
          await rule(engine, user('alice'), {
            events: ['job.failed'],
            jobId: watched,
            target: receiver.url,
          });
        }
        await assert.rejects(
          rule(engine, user('alice'), {
            events: ['job.failed'],
            jobId: watched,
            target: receiver.url,
          }),
          /job \d+ has 10 rules already/,
        );
        const rows = await engine.ctx.db
          .selectFrom('notification_rules')
          .select('job_id')
          .where('owner', '=', 'alice')
          .execute();
        assert.equal(rows.length, 10);
        await rule(engine, user('alice'), { events: ['job.failed'], target: receiver.url });
      } finally {
        await farm.close();
      }
    });

    it('refuses thresholds that do not fit the events', async () => {
      const farm = await startFarm(database);
      const { engine } = farm;
      try {
        const cases: [Partial<RuleInput>, RegExp][] = [
          [{ events: ['task.failed'] }, /needs "taskFailures"/],
          [{ events: ['job.queue-wait'] }, /needs "queueWaitSeconds"/],
          [{ events: ['job.failed'], taskFailures: 2 }, /only for rules on event task.failed/],
          [{ events: ['task.failed'], taskFailures: 0 }, /whole number from 1/],
        ];
        for (const [input, message] of cases) {
          await assert.rejects(
            rule(engine, user('alice'), { ...input, target: receiver.url }),
            message,
          );
        }
      } finally {
        await farm.close();
      }
    });

    it('the webhook allow-list refuses other hosts, at creation and at every send', async () => {
      fresh();
      const farm = await startFarm(database);
      try {
        // Made while any host was allowed; the list then comes in with a restart.
        await rule(farm.engine, user('alice'), { events: ['job.canceled'], target: receiver.url });
        const listed = await farm.open({ webhookHosts: ['hooks.example.com', '*.corp.test'] });
        await assert.rejects(
          rule(listed, user('alice'), { events: ['job.canceled'], target: receiver.url }),
          /not on this server's allow-list/,
        );
        const ok = await rule(listed, user('alice'), {
          events: ['job.completed'],
          target: 'https://ci.corp.test/hook',
        });
        assert.equal(ok.target, 'https://ci.corp.test/hook');
        await assert.rejects(
          rule(listed, user('alice'), {
            events: ['job.completed'],
            target: 'https://corp.test.evil.example/hook',
          }),
          /allow-list/,
        );
        await applyJobAction(listed.ctx, await submit(listed, 'alice'), 'cancel');
        assert.deepEqual(await listed.notifications.tick(), {
          delivered: 0,
          retried: 0,
          failed: 1,
        });
        assert.equal(receiver.received.length, 0);
        const [row] = await outbox(listed);
        assert.equal(row!.state, 'FAILED');
        assert.equal(row!.attempts, 1, 'no retry can mend it');
        assert.match(row!.last_error ?? '', /allow-list/);
      } finally {
        await farm.close();
      }
    });
  });
}
