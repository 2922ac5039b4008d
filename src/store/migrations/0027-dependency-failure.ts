import type { Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/*
 * What a job does when a job it depends on fails or is canceled (src/domain/
 * dependency-failure.ts). Jobs made before keep what they did then: they WAIT.
 *
 * Frame-by-frame dependencies (Deadline's IsFrameDependent): an edge marked `by_frame` holds
 * each task of the dependent only until the tasks of the dependency covering the same frames
 * complete (src/engine/jobs/frame-dependencies.ts). `frame_dependent` marks a job that has
 * such edges and `frame_dependents` counts the edges that point at a job, so that the paths
 * that move tasks (a release, a completion) know without a query whether to look.
 */
export function dependencyFailureSchema(_dialect: DialectName) {
  async function up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .alterTable('jobs')
      .addColumn('on_dependency_failure', 'text', (c) => c.notNull().defaultTo('WAIT'))
      .execute();
    await db.schema
      .alterTable('jobs')
      .addColumn('frame_dependent', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .alterTable('jobs')
      .addColumn('frame_dependents', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .alterTable('job_dependencies')
      .addColumn('by_frame', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
  }
  return { up };
}
