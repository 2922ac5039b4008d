import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DroverError } from '../../src/domain/errors.js';
import type { DroverEvent } from '../../src/engine/events/events.js';
import { startExecution } from '../../src/engine/executions/execution-reports.js';
import { submitJob } from '../../src/engine/jobs/job-submission.js';
import { registerNode } from '../../src/engine/nodes/node-registry.js';
import { findExecution } from '../../src/store/executions.js';
import { TEST_DATABASES, startTestEngine } from '../helpers/databases.js';

/*
 * Start calls that arrive together are written together: in the write lane's transaction on
 * SQLite, and on PostgreSQL as one statement that commits by itself. Each call is answered
 * as it would be alone, and each execution that starts moves once, with one event.
 */
for (const database of TEST_DATABASES) {
  describe(`start calls sent together (${database.name})`, () => {
    it('starts each execution once, answers a repeat as the first, and refuses a stranger', async () => {
      const t = await startTestEngine(database);
      try {
        const { ctx, settings, dispatcher } = t.engine;
        await submitJob(ctx, {
          type: 'command-line',
          user: 'alice',
          name: 'three',
          frames: '1-3',
          parameters: { executable: 'echo' },
        });
        const node = await registerNode(ctx, { name: 'worker', slots: 3 });
        const other = await registerNode(ctx, { name: 'other' });
        const orders = await dispatcher.claim(node.id, { max: 3 });
        assert.equal(orders.length, 3);
        const [a, b, c] = orders.map((o) => o.execution.id) as [number, number, number];

        const events: DroverEvent[] = [];
        const unsubscribe = ctx.bus.subscribe((e) => void events.push(e));
        try {
          const answers = await Promise.allSettled([
            startExecution(ctx, settings, a, node.id),
            startExecution(ctx, settings, a, node.id),
            startExecution(ctx, settings, b, other.id),
            startExecution(ctx, settings, c, node.id),
            startExecution(ctx, settings, 999_999, node.id),
          ]);
          assert.deepEqual(
            answers.map((r) => r.status),
            ['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'rejected'],
          );
          const refusals = answers
            .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
            .map((r) => r.reason as unknown);
          for (const reason of refusals) assert.ok(reason instanceof DroverError, String(reason));
          assert.deepEqual(
            await Promise.all(
              [a, b, c].map(async (id) => (await findExecution(ctx.db, id))?.state),
            ),
            ['RUNNING', 'ACQUIRED', 'RUNNING'],
          );
          const moved = events.filter((e) => e.type === 'execution.state' && e.to === 'RUNNING');
          assert.deepEqual(
            moved
              .map((e) => (e.type === 'execution.state' ? e.executionId : 0))
              .sort((x, y) => x! - y!),
            [a, c],
            'one event per execution started',
          );
        } finally {
          unsubscribe();
        }
      } finally {
        await t.close();
      }
    });
  });
}
