/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Phase } from '../../../src/api/ufdl/errors.js';
import { findUfdlJob } from '../../../src/api/ufdl/job-view.js';
import { phaseOf, PHASE_TABLE } from '../../../src/api/ufdl/phase-mapping.js';
import {
  completeExecution,
  failReportedExecution,
  startExecution,
} from '../../../src/engine/executions/execution-reports.js';
import { applyJobAction } from '../../../src/engine/jobs/job-actions.js';
import { submitJob } from '../../../src/engine/jobs/job-submission.js';
import { registerNode } from '../../../src/engine/nodes/node-registry.js';
import { TEST_DATABASES } from '../../helpers/databases.js';
import { expect, startUfdl } from './support.js';

/*
 * Every row of the phase table (api/ufdl/phase-mapping.ts): a Drover job brought into each
 * state by the engine, as other faces would, shows through UFDL with the matching phase and
 * fields; and the SQL columns the list filters on agree with the rendering.
 */

/** UFDL's own derivation from the three fields (reference §2). */
function ufdlDerived(job: any): Phase {
  if (job.start_time === null) return 'CREATED';
  if (job.end_time === null) return job.error_reason === null ? 'STARTED' : 'CANCELLED';
  return job.error_reason === null ? 'FINISHED' : 'ERRORED';
}

for (const database of TEST_DATABASES) {
  describe(`UFDL phase mapping (${database.name})`, () => {
    test('every row of the table', async () => {
      const w = await startUfdl(database);
      try {
        const { ctx, settings, dispatcher } = w.t.engine;
        const node = await registerNode(ctx, { name: 'n1', slots: 20 });
        const submit = (extra: Record<string, unknown> = {}) =>
          submitJob(ctx, {
            type: 'command-line',
            user: 'alice',
            parameters: { executable: 'echo' },
            ...extra,
          });
        const acquire = async () => (await dispatcher.tryAcquire(node.id))!.execution.id;

        const check = async (c: {
          label: string;
          id: number;
          state: string;
          execution: string;
          phase: Phase;
          node: boolean;
        }) => {
          const row = (await findUfdlJob(ctx.db, c.id))!;
          assert.equal(row.state, c.state, `${c.label}: Drover state`);
          assert.equal(phaseOf(row), c.phase, `${c.label}: phase`);
          const tableRow = PHASE_TABLE.find(
            (r) => r.state === c.state && (r.execution === c.execution || r.execution === 'any'),
          );
          assert.equal(tableRow?.phase, c.phase, `${c.label}: the table has this row`);
          const json = expect(await w.user.call('GET', `/v1/jobs/${c.id}`), 200, c.label);
          assert.equal(json.node !== null, c.node, `${c.label}: node`);
          if (c.label !== 'cancelled before start') {
            assert.equal(ufdlDerived(json), c.phase, `${c.label}: UFDL's derivation agrees`);
          } else {
            assert.equal(json.start_time, null);
            assert.equal(json.error_reason, 'Cancelled');
            assert.equal(json.is_cancelled, true, 'a deliberate deviation (README)');
          }
          // The list's SQL columns agree with what retrieve shows.
          for (const field of ['start_time', 'end_time', 'error_reason', 'node']) {
            const filtered = expect(
              await w.user.call('POST', '/v1/jobs/list', {
                expressions: [
                  { type: 'exact', field: 'pk', value: c.id },
                  { type: 'isnull', field },
                ],
              }),
              200,
              `${c.label} ${field}`,
            );
            assert.equal(
              filtered.length === 1,
              json[field] === null,
              `${c.label}: ${field} isnull`,
            );
          }
        };
        const add = (
          label: string,
          id: number,
          state: string,
          execution: string,
          phase: Phase,
          hasNode: boolean,
        ) => check({ label, id, state, execution, phase, node: hasNode });

        await add(
          'pending',
          await submit({ initialState: 'PENDING' }),
          'PENDING',
          'none live',
          'CREATED',
          false,
        );
        await add(
          'suspended',
          await submit({ initialState: 'SUSPENDED' }),
          'SUSPENDED',
          'none live',
          'CREATED',
          false,
        );
        // Each of these is dispatched in turn (the dispatcher takes the oldest first).
        const acquired = await submit();
        await acquire();
        await add('acquired', acquired, 'RUNNING', 'ACQUIRED', 'CREATED', true);
        const started = await submit();
        await startExecution(ctx, settings, await acquire(), node.id);
        await add('started', started, 'RUNNING', 'RUNNING', 'STARTED', true);
        const retrying = await submit({ maxTries: 2 });
        await failReportedExecution(ctx, await acquire(), node.id, { message: 'once' });
        await add('retry waiting', retrying, 'RUNNING', 'none live', 'CREATED', false);
        const completed = await submit();
        // The retrying job is older: take it first, then the one to complete.
        await applyJobAction(ctx, retrying, 'suspend');
        const done = await acquire();
        await startExecution(ctx, settings, done, node.id);
        await completeExecution(ctx, settings, done, node.id);
        await add('completed', completed, 'COMPLETED', 'any', 'FINISHED', true);
        await applyJobAction(ctx, retrying, 'resume');
        await add('queued again', retrying, 'QUEUED', 'none live', 'CREATED', false);
        const failed = await submit({ maxTries: 1 });
        await applyJobAction(ctx, retrying, 'suspend');
        const bad = await acquire();
        await startExecution(ctx, settings, bad, node.id);
        await failReportedExecution(ctx, bad, node.id, { message: 'broken' });
        await add('failed', failed, 'FAILED', 'any', 'ERRORED', true);
        const cancelled = await submit();
        await applyJobAction(ctx, cancelled, 'cancel');
        await add('cancelled before start', cancelled, 'CANCELED', 'any', 'CANCELLED', false);

        // A job of several tasks: STARTED while RUNNING, not workable by a UFDL node.
        const frames = await submit({ frames: '1-4', chunkSize: 2 });
        await applyJobAction(ctx, retrying, 'cancel');
        await startExecution(ctx, settings, await acquire(), node.id);
        const multi = (await findUfdlJob(ctx.db, frames))!;
        assert.equal(phaseOf(multi), 'STARTED');
        assert.equal(multi.workable_template, null);
        assert.equal(multi.node, null);
      } finally {
        await w.close();
      }
    });
  });
}
