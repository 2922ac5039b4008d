import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nodeStatus } from '../../src/domain/node-status.js';
import type { Engine } from '../../src/engine/engine.js';
import {
  completeExecution,
  failReportedExecution,
} from '../../src/engine/executions/execution-reports.js';
import { submitJob } from '../../src/engine/jobs/job-submission.js';
import { clearNodeQuarantine, scanForQuarantine } from '../../src/engine/nodes/node-quarantine.js';
import { registerNode, setNodeEnabled } from '../../src/engine/nodes/node-registry.js';
import { createNotificationRule } from '../../src/engine/notifications/notification-rules.js';
import { countNodesByStatus, findNode } from '../../src/store/nodes.js';
import { TEST_DATABASES, startTestEngine } from '../helpers/databases.js';

/*
 * Farm-wide quarantine (docs/scheduling.md#quarantine): a node whose failure rate over the
 * window stands out from its peers' is disabled with the reason, an audit entry and the
 * node.quarantined notifications; a node failing at an ordinary rate is left alone; an
 * operator's clearing lets it work again and forgives the failures that quarantined it.
 */

function farm(engine: Engine) {
  const ctx = engine.ctx;
  return {
    node: async (name: string) => (await registerNode(ctx, { name })).id,
    /** The node takes one task and ends it: `outcomes` is a string of f (fail) and c (complete). */
    async work(nodeId: number, outcomes: string) {
      for (const o of outcomes) {
        const got = await engine.dispatcher.tryAcquire(nodeId);
        assert.ok(got, `node ${nodeId} takes a task`);
        if (o === 'f') {
          await failReportedExecution(ctx, got.execution.id, nodeId, {
            message: 'exit 1',
            exitCode: 1,
          });
        } else {
          await completeExecution(ctx, engine.settings, got.execution.id, nodeId);
        }
      }
    },
  };
}

for (const database of TEST_DATABASES) {
  describe(`node quarantine (${database.name})`, () => {
    it('quarantines the node whose failure rate stands out, not one failing as its peers do, until cleared', async () => {
      const t = await startTestEngine(database);
      try {
        const { ctx } = t.engine;
        await createNotificationRule(
          ctx,
          { id: 0, name: 'root', role: 'admin' },
          {
            global: true,
            events: ['node.quarantined'],
            channel: 'webhook',
            target: 'http://127.0.0.1:9/hook',
          },
          { emailConfigured: false },
        );
        const f = farm(t.engine);
        await submitJob(ctx, {
          type: 'command-line',
          user: 'alice',
          parameters: { executable: 'echo' },
          frames: '1-100',
          maxTries: 50,
          badNodeFailures: 0,
        });
        const bad = await f.node('bad');
        const ordinary = await f.node('ordinary');
        const good1 = await f.node('good1');
        const good2 = await f.node('good2');
        await f.work(bad, 'ffffcf'); // 5 of 6: 83%
        await f.work(ordinary, 'fcfcc'); // 2 of 5: 40%, under the 50% floor
        await f.work(good1, 'cccc');
        await f.work(good2, 'ccccc'); // median of 0, 0, 0.4, 0.83: 0.2, and 0.83 > 3 × 0.2

        const result = await t.engine.reaper.tick();
        assert.equal(result.quarantined, 1);
        const node = (await findNode(ctx.db, bad))!;
        assert.equal(node.enabled, 0);
        assert.equal(node.quarantined_at, t.clock.now);
        assert.match(node.quarantine_reason ?? '', /failed 5 of 6 executions \(83%\)/);
        assert.match(node.quarantine_reason ?? '', /median is 20% over 4 nodes/);
        assert.equal(nodeStatus(node, 0), 'QUARANTINED');
        assert.equal(nodeStatus((await findNode(ctx.db, ordinary))!, 0), 'IDLE');
        assert.equal((await countNodesByStatus(ctx.db)).QUARANTINED, 1);
        assert.equal(await t.engine.dispatcher.tryAcquire(bad), undefined, 'it takes no work');

        const outbox = await ctx.db
          .selectFrom('notification_outbox')
          .select(['event', 'node_id', 'payload'])
          .execute();
        assert.deepEqual(
          outbox.map((r) => [r.event, Number(r.node_id)]),
          [['node.quarantined', bad]],
        );
        assert.match(outbox[0]!.payload, /"quarantineReason":"failed 5 of 6/);
        const audit = await ctx.db
          .selectFrom('audit_events')
          .select(['actor', 'action'])
          .where('action', 'like', 'node.quarantine%')
          .execute();
        assert.equal(audit.length, 1);
        assert.match(audit[0]!.action, /^node\.quarantine bad: failed 5 of 6/);

        // A second scan quarantines nothing more.
        assert.equal((await t.engine.reaper.tick()).quarantined, 0);

        // Cleared: it works again, and the failures before the clearing are forgiven.
        t.clock.advance(1000);
        await clearNodeQuarantine(ctx, bad);
        const cleared = (await findNode(ctx.db, bad))!;
        assert.equal(cleared.enabled, 1);
        assert.equal(cleared.quarantined_at, null);
        assert.equal(nodeStatus(cleared, 0), 'IDLE');
        await assert.rejects(clearNodeQuarantine(ctx, bad), /is not quarantined/);
        assert.deepEqual(
          await scanForQuarantine(ctx, t.engine.settings.quarantine, t.clock.now),
          [],
        );
        t.clock.advance(1000);
        await f.work(bad, 'c');

        // New failures after the clearing count again; enabling the node also lifts it.
        await f.work(bad, 'fffff');
        assert.deepEqual(await scanForQuarantine(ctx, t.engine.settings.quarantine, t.clock.now), [
          bad,
        ]);
        await setNodeEnabled(ctx, bad, true);
        assert.equal((await findNode(ctx.db, bad))!.quarantined_at, null);

        // Past the window the failures no longer count.
        await f.work(bad, 'fffff');
        t.clock.advance(t.engine.settings.quarantine.windowMs + 1);
        assert.deepEqual(
          await scanForQuarantine(ctx, t.engine.settings.quarantine, t.clock.now),
          [],
        );
      } finally {
        await t.close();
      }
    });

    it('never quarantines with too few peers, nor with failures 0, nor a node an operator disabled', async () => {
      const t = await startTestEngine(database);
      try {
        const { ctx } = t.engine;
        const f = farm(t.engine);
        await submitJob(ctx, {
          type: 'command-line',
          user: 'alice',
          parameters: { executable: 'echo' },
          frames: '1-100',
          maxTries: 50,
          badNodeFailures: 0,
        });
        const bad = await f.node('bad');
        const good = await f.node('good');
        await f.work(bad, 'ffffff');
        await f.work(good, 'cc');
        const rule = t.engine.settings.quarantine;
        assert.deepEqual(
          await scanForQuarantine(ctx, rule, t.clock.now),
          [],
          'two nodes: no median',
        );
        const third = await f.node('third');
        await f.work(third, 'cc');
        assert.deepEqual(await scanForQuarantine(ctx, { ...rule, failures: 0 }, t.clock.now), []);
        await setNodeEnabled(ctx, bad, false);
        assert.deepEqual(await scanForQuarantine(ctx, rule, t.clock.now), []);
        assert.equal((await findNode(ctx.db, bad))!.quarantined_at, null);
        await setNodeEnabled(ctx, bad, true);
        assert.deepEqual(await scanForQuarantine(ctx, rule, t.clock.now), [bad]);
      } finally {
        await t.close();
      }
    });
  });
}
