import type { Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/*
 * What a job does when a job it depends on fails or is canceled (src/domain/
 * dependency-failure.ts). Jobs made before keep what they did then: they WAIT.
 */
export function dependencyFailureSchema(_dialect: DialectName) {
  async function up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .alterTable('jobs')
      .addColumn('on_dependency_failure', 'text', (c) => c.notNull().defaultTo('WAIT'))
      .execute();
  }
  return { up };
}
