import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseFrameList } from '../../src/domain/frame-list.js';
import {
  completeExecution,
  startExecution,
} from '../../src/engine/executions/execution-reports.js';
import { submitJob, type SubmitJobSpec } from '../../src/engine/jobs/job-submission.js';
import { registerNode } from '../../src/engine/nodes/node-registry.js';
import { submitOpenjdJob } from '../../src/formats/openjd/openjd-jobs.js';
import { findJob } from '../../src/store/jobs.js';
import { findTask, listTasks } from '../../src/store/tasks.js';
import { TEST_DATABASES, startTestEngine, type TestEngine } from '../helpers/databases.js';

/*
 * Adaptive chunking: a job with targetTaskSeconds starts with chunks of its chunk size; as
 * its tasks complete, the tasks no node has taken are re-chunked toward the target,
 * measured from the completed ones. Durations come from the engine's manual clock, so each
 * frame takes a known time and nothing is timed for real.
 */

const echo = { type: 'command-line', user: 'alice', parameters: { executable: 'echo' } };

/** Takes one task as `nodeId`, "runs" it for msPerFrame per frame, completes it. */
async function runOne(t: TestEngine, nodeId: number, msPerFrame: number) {
  const ctx = t.engine.ctx;
  const claim = await t.engine.dispatcher.tryAcquire(nodeId);
  if (!claim) return undefined;
  const task = await findTask(ctx.db, claim.execution.task_id);
  assert.ok(task);
  const chunk = task.parameters_json
    ? (JSON.parse(task.parameters_json) as Record<string, string>).Frame
    : undefined;
  const frames = parseFrameList(chunk ?? task.frames);
  await startExecution(ctx, t.engine.settings, claim.execution.id, nodeId);
  t.clock.advance(frames.length * msPerFrame);
  await completeExecution(ctx, t.engine.settings, claim.execution.id, nodeId, 0);
  await t.engine.chunking.idle();
  return frames;
}

function assertEachOnce(ran: number[][], last: number): void {
  const all = ran.flat().sort((a, b) => a - b);
  assert.deepEqual(
    all,
    Array.from({ length: last }, (_, i) => i + 1),
    'every frame ran exactly once',
  );
}

for (const database of TEST_DATABASES) {
  describe(`adaptive chunking (${database.name})`, () => {
    it('chunks grow toward the target, and shrink when frames get slower', async () => {
      const t = await startTestEngine(database);
      try {
        const ctx = t.engine.ctx;
        const spec: SubmitJobSpec = {
          ...echo,
          name: 'grow',
          frames: '1-300',
          chunkSize: 2,
          targetTaskSeconds: 10,
        };
        const id = await submitJob(ctx, spec);
        assert.equal((await findJob(ctx.db, id))?.target_task_seconds, 10);
        const node = (await registerNode(ctx, { name: 'n1' })).id;
        const ran: number[][] = [];
        // 1 s per frame for the first 100 frames, then 5 s per frame.
        for (;;) {
          const slow = ran.flat().length >= 100;
          const frames = await runOne(t, node, slow ? 5000 : 1000);
          if (!frames) break;
          ran.push(frames);
        }
        assertEachOnce(ran, 300);
        const sizes = ran.map((f) => f.length);
        assert.equal(sizes[0], 2, 'the first task takes the default chunk size');
        // After the first task: 10 s at 1 s a frame is 10 frames (±30%).
        const fast = sizes.slice(1, 6);
        assert.ok(
          fast.every((n) => n >= 7 && n <= 13),
          `chunks after the first: ${sizes.join(' ')}`,
        );
        // Once frames take 5 s, the chunks shrink to about 2 frames (10 s), within ±30%
        // after the sample has followed the change.
        const tail = sizes.slice(-10, -1);
        assert.ok(
          tail.every((n) => n === 2),
          `chunks at the end: ${sizes.join(' ')}`,
        );
        const job = await findJob(ctx.db, id);
        assert.equal(job?.state, 'COMPLETED');
        assert.equal(job?.tasks_completed, job?.task_count);
        const rows = (await listTasks(ctx.db, id, { limit: 1000, offset: 0 })).rows;
        assert.equal(rows.length, job?.task_count);
        assert.deepEqual(
          rows.map((r) => r.task_index),
          rows.map((_, i) => i),
          'task indexes stay dense',
        );
      } finally {
        await t.close();
      }
    });

    it('nodes claiming while the tail is re-chunked: no frame lost or run twice', async () => {
      const t = await startTestEngine(database);
      try {
        const ctx = t.engine.ctx;
        const id = await submitJob(ctx, {
          ...echo,
          name: 'busy',
          frames: '1-400',
          chunkSize: 1,
          targetTaskSeconds: 20,
        });
        const nodes = await Promise.all(
          [1, 2, 3, 4].map(async (n) => (await registerNode(ctx, { name: `n${n}` })).id),
        );
        const ran: number[][] = [];
        await Promise.all(
          nodes.map(async (node) => {
            for (;;) {
              const frames = await runOne(t, node, 1000);
              if (!frames) {
                // Another node may hold the last tasks, or a re-chunk may be under way.
                await t.engine.chunking.idle();
                const job = await findJob(ctx.db, id);
                if (job?.tasks_queued === 0 && job.tasks_pending === 0) return;
                continue;
              }
              ran.push(frames);
            }
          }),
        );
        assertEachOnce(ran, 400);
        const job = await findJob(ctx.db, id);
        assert.equal(job?.state, 'COMPLETED');
        assert.equal(job?.tasks_completed, job?.task_count);
        assert.ok(
          ran.some((f) => f.length > 1),
          'the chunks grew from 1 while the nodes worked',
        );
      } finally {
        await t.close();
      }
    });

    it('an OpenJD CHUNK[INT] with targetRuntimeSeconds: contiguous chunks toward it', async () => {
      const t = await startTestEngine(database);
      try {
        const ctx = t.engine.ctx;
        const parent = await submitOpenjdJob(ctx, {
          template: {
            specificationVersion: 'jobtemplate-2023-09',
            extensions: ['TASK_CHUNKING'],
            name: 'Chunks',
            steps: [
              {
                name: 'Render',
                parameterSpace: {
                  taskParameterDefinitions: [
                    {
                      name: 'Frame',
                      type: 'CHUNK[INT]',
                      range: '1-30,41-60',
                      chunks: {
                        defaultTaskCount: 1,
                        targetRuntimeSeconds: 8,
                        rangeConstraint: 'CONTIGUOUS',
                      },
                    },
                  ],
                },
                script: { actions: { onRun: { command: 'true', args: ['{{Task.Param.Frame}}'] } } },
              },
            ],
          },
          settings: { user: 'alice' },
        });
        const step = await ctx.db
          .selectFrom('jobs')
          .selectAll()
          .where('parent_id', '=', parent)
          .executeTakeFirstOrThrow();
        assert.equal(step.target_task_seconds, 8);
        assert.equal(step.chunk_contiguous, 1);
        const node = (await registerNode(ctx, { name: 'n1' })).id;
        const ran: number[][] = [];
        for (;;) {
          const frames = await runOne(t, node, 1000);
          if (!frames) break;
          ran.push(frames);
        }
        assert.deepEqual(
          ran.flat().sort((a, b) => a - b),
          [
            ...Array.from({ length: 30 }, (_, i) => i + 1),
            ...Array.from({ length: 20 }, (_, i) => i + 41),
          ],
        );
        assert.equal(ran[0]!.length, 1);
        assert.equal(ran[1]!.length, 8, `chunks: ${ran.map((f) => f.length).join(' ')}`);
        for (const f of ran) {
          assert.equal(f[f.length - 1]! - f[0]!, f.length - 1, `contiguous: ${f.join(',')}`);
        }
      } finally {
        await t.close();
      }
    });

    it('refuses a target out of bounds', async () => {
      const t = await startTestEngine(database);
      try {
        await assert.rejects(
          submitJob(t.engine.ctx, { ...echo, frames: '1-2', targetTaskSeconds: -1 }),
          /targetTaskSeconds must be an integer from 0 to 86400/,
        );
      } finally {
        await t.close();
      }
    });

    it("tells the engine's error hook when re-chunking fails, and the tasks stay", async () => {
      const failures: string[] = [];
      const t = await startTestEngine(database, {
        onBackgroundError: (message) => failures.push(message),
      });
      try {
        const ctx = t.engine.ctx;
        const id = await submitJob(ctx, {
          ...echo,
          name: 'broken',
          frames: '1-20',
          chunkSize: 2,
          targetTaskSeconds: 10,
        });
        // A tail task whose frames cannot be read: re-chunking the tail throws.
        const last = (await listTasks(ctx.db, id, { limit: 100, offset: 0 })).rows.at(-1)!;
        await ctx.db
          .updateTable('tasks')
          .set({ frames: 'not frames' })
          .where('id', '=', last.id)
          .execute();
        const node = (await registerNode(ctx, { name: 'n1' })).id;
        assert.deepEqual(await runOne(t, node, 1000), [1, 2]);
        assert.equal(failures.length, 1, failures.join('\n'));
        assert.match(
          failures[0]!,
          new RegExp(`^re-chunking job ${id} failed \\(its unclaimed tasks keep their chunks\\): `),
        );
        assert.equal((await findJob(ctx.db, id))?.task_count, 10);
      } finally {
        await t.close();
      }
    });
  });
}
