import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { submitJob } from '../../src/engine/jobs/job-submission.js';
import { findJobs } from '../../src/store/jobs.js';
import { TEST_DATABASES, startTestEngine } from '../helpers/databases.js';

/*
 * A list of job ids reached SQL as one IN list: past SQLite's 32,766 bound variables it
 * was a 500 (Deadline's bulk job reads, a native bulk action's permission check). It is
 * read in chunks, each id once.
 */
for (const database of TEST_DATABASES) {
  describe(`findJobs over a long id list (${database.name})`, () => {
    it('answers the jobs of 40,000 ids, each once, in id order', async () => {
      const t = await startTestEngine(database);
      try {
        const { ctx } = t.engine;
        const ids: number[] = [];
        for (let i = 0; i < 3; i++) {
          const id = await submitJob(ctx, {
            type: 'command-line',
            user: 'alice',
            frames: '1',
            parameters: { executable: 'echo' },
          });
          ids.push(id);
        }
        const asked = [...Array.from({ length: 40_000 }, (_, i) => 1_000_000 + i), ...ids, ids[0]!];
        const found = await findJobs(ctx.db, asked.reverse());
        assert.deepEqual(
          found.map((j) => j.id),
          ids,
        );
      } finally {
        await t.close();
      }
    });
  });
}
