import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql, type Kysely } from 'kysely';
import { startEngine } from '../../src/engine/engine.js';
import { createJobType, reviseJobType } from '../../src/engine/job-types/job-types.js';
import { JOB_DEFINITION_FORMATS } from '../../src/formats/index.js';
import { openDatabase } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { revisionOutputJudgingSchema } from '../../src/store/migrations/0041-revision-output-judging.js';
import { TEST_DATABASES } from '../helpers/databases.js';

/*
 * A revision says whether its jobs' finishes have their outputs judged (migration 0041):
 * written with each new revision, and worked out by the migration for those before it.
 * PostgreSQL's finish fast path trusts it, so a wrong 0 would let a task without its output
 * count as done (test/engine/output-rules.test.ts shows the rule itself).
 */

const outputs = {
  required: [{ name: 'image', type: 'file', pattern: '*.exr' }],
  optional: [{ name: 'preview', type: 'file', pattern: '*.jpg', required: false }],
  none: [],
};

for (const database of TEST_DATABASES) {
  describe(`migration 0041-revision-output-judging (${database.name})`, () => {
    it('marks revisions with a manifest or a required file output, new and old alike', async () => {
      const { options, cleanup } = await database.fresh();
      const engine = await startEngine({ ...options, formats: JOB_DEFINITION_FORMATS });
      const types: Record<string, number> = {};
      try {
        for (const [name, list] of Object.entries(outputs)) {
          const type = await createJobType(engine.ctx, {
            name: `outputs-${name}`,
            definition: { command: ['true'], outputs: list },
          });
          types[name] = type.id;
        }
        // A revision that drops the required output is judged no more; its jobs' finishes
        // take the fast path again.
        await reviseJobType(engine.ctx, types.required!, { definition: { outputs: [] } });
        const manifest = await createJobType(engine.ctx, {
          name: 'outputs-manifest',
          definition: { command: ['true'] },
          manifest: { seedVersion: '1.0.0' },
        });
        types.manifest = manifest.id;
      } finally {
        await engine.close();
      }
      const open = openDatabase({
        url: options.url!,
        ...(options.schema !== undefined ? { schema: options.schema } : {}),
      });
      const judged = async () =>
        (
          await sql<{ job_type_id: number; revision_num: number; judges_outputs: number }>`
            select job_type_id, revision_num, judges_outputs from job_type_revisions
            where job_type_id in (${sql.join(Object.values(types))})
            order by job_type_id, revision_num`.execute(open.db)
        ).rows.map((r) => [
          Number(r.job_type_id),
          Number(r.revision_num),
          Number(r.judges_outputs),
        ]);
      const expected = [
        [types.required, 1, 1],
        [types.required, 2, 0],
        [types.optional, 1, 0],
        [types.none, 1, 0],
        [types.manifest, 1, 1],
      ];
      try {
        assert.deepEqual(await judged(), expected, 'as the engine wrote them');
        // Back to the table before 0041, then its step again (later migrations have run,
        // so the migrator itself would refuse to run an earlier one).
        await sql`alter table job_type_revisions drop column judges_outputs`.execute(open.db);
        await revisionOutputJudgingSchema(open.dialect).up(open.db as unknown as Kysely<unknown>);
        assert.deepEqual(await migrateToLatest(open), []);
        assert.deepEqual(await judged(), expected, 'as the migration worked them out');
      } finally {
        await open.close();
        await cleanup();
      }
    });
  });
}
