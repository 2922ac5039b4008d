import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql, type Kysely } from 'kysely';
import { startEngine } from '../../src/engine/engine.js';
import { submitJob } from '../../src/engine/jobs/job-submission.js';
import { JOB_DEFINITION_FORMATS } from '../../src/formats/index.js';
import { openDatabase } from '../../src/store/database.js';
import { findJob } from '../../src/store/jobs.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import {
  jobProtectionSchema,
  protectedInDialect,
} from '../../src/store/migrations/0014-job-protection.js';
import { TEST_DATABASES } from '../helpers/databases.js';

/*
 * Migration 0014 moves Deadline's `Protected` into the engine's column: jobs the Deadline
 * face protected before it (JobInfo Protected, or a later save of Props.Protect, which wins)
 * stay protected.
 */

const dialectOf = (jobInfo: Record<string, unknown>, props: Record<string, unknown> = {}) => ({
  deadline: { plugin: 'CommandLine', jobInfo, pluginInfo: {}, aux: [], white: false, props },
});

describe('protectedInDialect', () => {
  it('reads JobInfo Protected in any case and form; a saved Props.Protect wins', () => {
    const of = (d: unknown) => protectedInDialect(JSON.stringify(d));
    assert.equal(of(dialectOf({ Protected: true })), true);
    assert.equal(of(dialectOf({ protected: 'True' })), true);
    assert.equal(of(dialectOf({ PROTECTED: 1 })), true);
    assert.equal(of(dialectOf({ Protected: 'false' })), false);
    assert.equal(of(dialectOf({ Name: 'Protected' })), false);
    assert.equal(of(dialectOf({ Protected: true }, { Protect: false })), false);
    assert.equal(of(dialectOf({}, { Protect: true })), true);
    assert.equal(of({ onComplete: 'delete' }), false);
    assert.equal(protectedInDialect('not json'), false);
  });
});

for (const database of TEST_DATABASES) {
  describe(`migration 0014-job-protection (${database.name})`, () => {
    it('protects the jobs the Deadline face protected before it', async () => {
      const { options, cleanup } = await database.fresh();
      const engine = await startEngine({ ...options, formats: JOB_DEFINITION_FORMATS });
      const ids: number[] = [];
      try {
        const dialects = [
          dialectOf({ Protected: true }),
          dialectOf({ Protected: 'true' }, { Protect: false }),
          dialectOf({ Comment: 'not protected' }),
          {},
        ];
        for (const dialect of dialects) {
          const job = await submitJob(engine.ctx, {
            type: 'command-line',
            user: 'alice',
            parameters: { executable: 'echo' },
            dialect,
          });
          ids.push(job);
        }
      } finally {
        await engine.close();
      }
      // Back to the column before 0014, then its step again (later migrations have run, so
      // the migrator itself would refuse to run an earlier one).
      const open = openDatabase({
        url: options.url!,
        ...(options.schema !== undefined ? { schema: options.schema } : {}),
      });
      try {
        await sql`alter table jobs drop column "protected"`.execute(open.db);
        await jobProtectionSchema(open.dialect).up(open.db as unknown as Kysely<unknown>);
        assert.deepEqual(await migrateToLatest(open), []);
        const flags = [];
        for (const id of ids) flags.push((await findJob(open.db, id))?.protected);
        assert.deepEqual(flags, [1, 0, 0, 0]);
      } finally {
        await open.close();
        await cleanup();
      }
    });
  });
}
