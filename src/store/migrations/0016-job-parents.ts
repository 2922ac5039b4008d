import type { Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/*
 * Parent jobs: a job made of child jobs (a composite job type's job) has no tasks of its
 * own, and its children name it in parent_id. The column has no foreign key: SQLite cannot
 * add one to an existing table, and purging a family removes children first.
 */
export function jobParentsSchema(_dialect: DialectName) {
  async function up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('jobs').addColumn('parent_id', 'bigint').execute();
    await db.schema.createIndex('jobs_parent').on('jobs').column('parent_id').execute();
  }
  return { up };
}
