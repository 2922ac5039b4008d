import type { Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/*
 * Two things Scale's services filter or decide on that the earlier schemas kept only as text:
 *
 * - The exit code of a job type's own error. A Seed manifest's `errors[]` map the command's
 *   exit codes to errors; the failure path looks the code up when a node reports a non-zero
 *   exit without naming an error. Built-in errors have none.
 * - The source and data times of a registered file (epoch ms). They were kept in the file's
 *   `props_json` as ISO text, which neither database can compare as times; the input-file
 *   list filters its `started`/`ended` window on them (`time_field=source|data`). Rows
 *   registered before this migration get them from their properties.
 */
export function errorExitCodesSchema(_dialect: DialectName) {
  async function up(db: Kysely<unknown>): Promise<void> {
    const s = db.schema;
    await s.alterTable('errors').addColumn('exit_code', 'integer').execute();
    await s
      .createIndex('errors_job_type_exit_code')
      .on('errors')
      .columns(['job_type_name', 'exit_code'])
      .execute();

    // One column per statement: SQLite's ALTER TABLE adds a single column at a time.
    for (const column of FILE_TIMES) {
      await s.alterTable('files').addColumn(column, 'bigint').execute();
    }
    await backfillFileTimes(db as Kysely<FileTimesDatabase>);
  }
  return { up };
}

const FILE_TIMES = ['source_started', 'source_ended', 'data_started', 'data_ended'] as const;

interface FileTimesDatabase {
  files: { id: number; props_json: string } & Record<(typeof FILE_TIMES)[number], number | null>;
}

async function backfillFileTimes(db: Kysely<FileTimesDatabase>): Promise<void> {
  const rows = await db
    .selectFrom('files')
    .select(['id', 'props_json'])
    .where((eb) => eb.or(FILE_TIMES.map((c) => eb('props_json', 'like', `%${c}%`))))
    .execute();
  for (const row of rows) {
    const props = JSON.parse(row.props_json) as Record<string, unknown>;
    const times: Partial<Record<(typeof FILE_TIMES)[number], number>> = {};
    for (const column of FILE_TIMES) {
      const value = props[column];
      const ms = typeof value === 'string' ? Date.parse(value) : NaN;
      if (!Number.isNaN(ms)) times[column] = ms;
    }
    if (Object.keys(times).length > 0) {
      await db.updateTable('files').set(times).where('id', '=', row.id).execute();
    }
  }
}
