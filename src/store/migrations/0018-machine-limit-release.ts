import type { Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/*
 * A machine limit's release percentage (Deadline's "release limit at task progress"): a
 * node whose task of the job has reported at least this progress no longer counts against
 * the job's machine limit, so another node may start on the job. -1: never released.
 */
export function machineLimitReleaseSchema(_dialect: DialectName) {
  async function up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .alterTable('jobs')
      .addColumn('machine_limit_release', 'double precision', (c) => c.notNull().defaultTo(-1))
      .execute();
  }
  return { up };
}
