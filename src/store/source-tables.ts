import type { Kysely, Transaction } from 'kysely';
import type { Executor } from './database.js';
import type { Database } from './schema.js';

/** Source metadata of a job's input files (migration 0002-scale). */
export interface JobSourcesTable {
  job_id: number;
  /** MiB. */
  input_file_size: number | null;
  source_started: number | null;
  source_ended: number | null;
  source_sensor_class: string | null;
  source_sensor: string | null;
  source_collection: string | null;
  source_task: string | null;
}

/** A Seed job's json outputs, `{name: value}` as JSON text (migration 0006-job-json-outputs). */
export interface JobJsonOutputsTable {
  job_id: number;
  execution_id: number;
  values_json: string;
  created_at: number;
}

/**
 * The shared schema plus the tables migrations 0002 and 0006 add: where a job's input files
 * came from, and the JSON values a job's outputs hold.
 */
export interface SourceDatabase extends Database {
  job_sources: JobSourcesTable;
  job_json_outputs: JobJsonOutputsTable;
}

export type SourceExecutor = Kysely<SourceDatabase> | Transaction<SourceDatabase>;

/** The same connection, typed with those tables as well. */
export const withSourceTables = (db: Executor): SourceExecutor => db as unknown as SourceExecutor;
