import type { Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/*
 * A task's own parameter values (a point of a format's parameter space: OpenJD's
 * `Task.Param.Frame`, `Task.Param.Camera`), as a JSON object of strings. Null for tasks
 * that are frames of a frame list, which is every task made before this migration.
 */
export function taskParametersSchema(_dialect: DialectName) {
  async function up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('tasks').addColumn('parameters_json', 'text').execute();
  }
  return { up };
}
