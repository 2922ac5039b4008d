import type { Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/*
 * What Scale's job services read about a job's input that the first schema lacks: the size
 * of its input files and the source metadata of those files (when, by which sensor, of
 * which collection and task they were collected). Filled when a job's input is resolved,
 * one row per job, and filtered by the Scale job lists; jobs of other faces have none.
 */
export function scaleSchema(dialect: DialectName) {
  const real = dialect === 'postgres' ? 'double precision' : 'real';
  async function up(db: Kysely<unknown>): Promise<void> {
    const s = db.schema;
    await s
      .createTable('job_sources')
      .addColumn('job_id', 'bigint', (c) =>
        c.primaryKey().references('jobs.id').onDelete('cascade'),
      )
      .addColumn('input_file_size', real)
      .addColumn('source_started', 'bigint')
      .addColumn('source_ended', 'bigint')
      .addColumn('source_sensor_class', 'text')
      .addColumn('source_sensor', 'text')
      .addColumn('source_collection', 'text')
      .addColumn('source_task', 'text')
      .execute();
    for (const column of ['source_started', 'source_ended', 'source_sensor', 'source_collection']) {
      await s.createIndex(`job_sources_${column}`).on('job_sources').columns([column]).execute();
    }
  }
  return { up };
}
