import type { Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/*
 * Node telemetry (issue 17): the latest report on the node's row, and a history of points
 * averaged over steps of 10 s (kept a day) and 5 min (kept 90 days). A report adds itself
 * to the point of each step it falls in (one upsert per step), so the history is
 * downsampled as it is written and never holds more than a day of 10 s points and 90 days
 * of 5 min points per node; the reaper deletes what is older.
 */
export function nodeTelemetrySchema(_dialect: DialectName) {
  async function up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('nodes').addColumn('telemetry_json', 'text').execute();
    await db.schema.alterTable('nodes').addColumn('telemetry_at', 'bigint').execute();
    await db.schema
      .createTable('node_telemetry')
      .addColumn('node_id', 'bigint', (c) => c.notNull().references('nodes.id').onDelete('cascade'))
      .addColumn('step_s', 'integer', (c) => c.notNull())
      .addColumn('bucket_at', 'bigint', (c) => c.notNull())
      .addColumn('samples', 'integer', (c) => c.notNull())
      .addColumn('cpu_percent', 'double precision')
      .addColumn('mem_used_bytes', 'double precision')
      .addColumn('mem_total_bytes', 'double precision')
      .addColumn('load1', 'double precision')
      .addColumn('disk_free_bytes', 'double precision')
      .addColumn('gpu_percent', 'double precision')
      .addColumn('gpu_mem_used_bytes', 'double precision')
      .addPrimaryKeyConstraint('node_telemetry_pk', ['node_id', 'step_s', 'bucket_at'])
      .execute();
    // The pruning: by step, oldest first.
    await db.schema
      .createIndex('node_telemetry_age')
      .on('node_telemetry')
      .columns(['step_s', 'bucket_at'])
      .execute();
  }
  return { up };
}
