import type { Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/*
 * The json outputs of a Seed job: the values its successful execution gave in
 * `seed.outputs.json` for the manifest's `interface.outputs.json`, by output name. Scale
 * keeps them in the job's output Data JSON; they come from a file the worker uploaded, so
 * they are read once, when the execution finishes, and kept here rather than parsed again
 * on every read. One row per job (the last successful execution's); jobs of other faces
 * have none.
 */
export function jobJsonOutputsSchema(_dialect: DialectName) {
  async function up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('job_json_outputs')
      .addColumn('job_id', 'bigint', (c) =>
        c.primaryKey().references('jobs.id').onDelete('cascade'),
      )
      .addColumn('execution_id', 'bigint', (c) => c.notNull())
      .addColumn('values_json', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
  }
  return { up };
}
