import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { chunkFrames, parseFrameList } from '../../../src/domain/frame-list.js';
import { submitJob } from '../../../src/engine/jobs/job-submission.js';
import {
  appendJobFrameRange,
  setJobFrameRange,
} from '../../../src/engine/tasks/frame-range-changes.js';
import { findJob } from '../../../src/store/jobs.js';
import { tasksOfJob } from '../../../src/store/task-frames.js';
import { TEST_DATABASES, startTestEngine, type TestEngine } from '../../helpers/databases.js';

/*
 * Frame lists as Deadline jobs use them (reference §7): every form, chunking into tasks,
 * and the frames of a job after set and append. The parser itself is property-tested in
 * test/domain/frame-list.test.ts; here the properties are about tasks.
 */

const framesOfTasks = (tasks: { frames: string }[]): number[] =>
  tasks.flatMap((t) => parseFrameList(t.frames));

describe('Deadline frame lists: every form of reference §7', () => {
  const cases: Array<[string, number[]]> = [
    ['5', [5]],
    ['5,10,15,20', [5, 10, 15, 20]],
    ['5 10 15 20', [5, 10, 15, 20]],
    ['1-5', [1, 2, 3, 4, 5]],
    ['1:5', [1, 2, 3, 4, 5]],
    ['1-20x5', [1, 6, 11, 16]],
    ['1:20:5', [1, 6, 11, 16]],
    ['1-20step5', [1, 6, 11, 16]],
    ['1-20by5', [1, 6, 11, 16]],
    ['1-20every5', [1, 6, 11, 16]],
    ['5-1', [5, 4, 3, 2, 1]],
    ['5:1', [5, 4, 3, 2, 1]],
    ['20-1x5', [20, 15, 10, 5]],
    ['20:1:5', [20, 15, 10, 5]],
    ['-18', [-18]],
    ['-20,-21,-22--24', [-20, -21, -22, -23, -24]],
    ['5,5,5', [5]],
    ['1,10,5,2-4', [1, 10, 5, 2, 3, 4]],
    ['105,200-206x3,1-2', [105, 200, 203, 206, 1, 2]],
  ];
  for (const [text, frames] of cases) {
    it(text, () => assert.deepEqual(parseFrameList(text), frames));
  }

  it('chunking: 1-400 by 1 gives 400 tasks and task 20 is "21-21"', () => {
    const chunks = chunkFrames(parseFrameList('1-400'), 1);
    assert.equal(chunks.length, 400);
    assert.equal(chunks[20]?.label, '21-21');
  });

  it('chunking keeps every frame once, in order, the last chunk smaller', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -50, max: 50 }), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 7 }),
        (list, size) => {
          const frames = parseFrameList(list.join(','));
          const chunks = chunkFrames(frames, size);
          assert.deepEqual(framesOfTasks(chunks.map((c) => ({ frames: c.label }))), frames);
          assert.ok(chunks.slice(0, -1).every((c) => c.frames.length === size));
          assert.ok((chunks.at(-1)?.frames.length ?? 0) <= size);
        },
      ),
    );
  });
});

for (const database of TEST_DATABASES) {
  describe(`Deadline frame ranges on jobs (${database.name})`, () => {
    let t: TestEngine;
    before(async () => {
      t = await startTestEngine(database);
    });
    after(async () => {
      await t?.close();
    });
    const submit = (frames: string, chunkSize: number) =>
      submitJob(t.engine.ctx, {
        type: 'command-line',
        user: 'u',
        frames,
        chunkSize,
        parameters: { executable: 'echo' },
      });

    it('append adds each new frame once, after the frames the job has', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 1, maxLength: 12 }),
          fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 12 }),
          fc.integer({ min: 1, max: 4 }),
          async (first, more, size) => {
            const id = await submit(first.join(','), size);
            await appendJobFrameRange(t.engine.ctx, id, more.join(','));
            const tasks = await tasksOfJob(t.engine.ctx.db, id);
            const expected = parseFrameList([...first, ...more].join(','));
            assert.deepEqual(new Set(framesOfTasks(tasks)), new Set(expected));
            assert.equal(framesOfTasks(tasks).length, expected.length);
            assert.deepEqual(
              tasks.map((x) => x.task_index),
              tasks.map((_x, i) => i),
            );
            const job = await findJob(t.engine.ctx.db, id);
            assert.equal(job?.task_count, tasks.length);
            assert.equal(job?.tasks_queued, tasks.length);
            assert.deepEqual(new Set(parseFrameList(job!.frames)), new Set(expected));
          },
        ),
        { numRuns: 15 },
      );
    });

    it('set replaces the frames and chunking exactly', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.integer({ min: -10, max: 30 }), { minLength: 1, maxLength: 12 }),
          fc.integer({ min: 1, max: 5 }),
          async (frames, size) => {
            const id = await submit('1-9', 2);
            await setJobFrameRange(t.engine.ctx, id, frames.join(' '), size);
            const tasks = await tasksOfJob(t.engine.ctx.db, id);
            const expected = chunkFrames(parseFrameList(frames.join(',')), size);
            assert.deepEqual(
              tasks.map((x) => x.frames),
              expected.map((c) => c.label),
            );
            const job = await findJob(t.engine.ctx.db, id);
            assert.equal(job?.task_count, expected.length);
            assert.equal(job?.chunk_size, size);
          },
        ),
        { numRuns: 15 },
      );
    });

    it('append fills the last unstarted task up to its chunk first', async () => {
      const id = await submit('1-5', 3);
      await appendJobFrameRange(t.engine.ctx, id, '6-9');
      const tasks = await tasksOfJob(t.engine.ctx.db, id);
      assert.deepEqual(
        tasks.map((x) => x.frames),
        ['1-3', '4-6', '7-9'],
      );
    });
  });
}
