import { sql, type ColumnDataType, type CreateTableBuilder, type Kysely } from 'kysely';
import { BUILTIN_ERRORS } from '../../domain/error-categories.js';
import type { DialectName } from '../database.js';

/*
 * The first schema. SQLite and PostgreSQL share it column for column; where the two differ
 * (identity columns, floating point, binary data) the helper below picks each one's type.
 */
export function initialSchema(dialect: DialectName) {
  const pgsql = dialect === 'postgres';
  const real: ColumnDataType = pgsql ? 'double precision' : 'real';
  const binary: ColumnDataType = pgsql ? 'bytea' : 'blob';

  // SQLite's AUTOINCREMENT never reuses the id of a purged row; PostgreSQL identities never do.
  const withId = <T extends string>(table: CreateTableBuilder<T, never>) =>
    pgsql
      ? table.addColumn('id', 'bigint', (c) => c.primaryKey().generatedByDefaultAsIdentity())
      : table.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());

  async function up(db: Kysely<unknown>): Promise<void> {
    const s = db.schema;

    await withId(s.createTable('users'))
      .addColumn('name', 'text', (c) => c.notNull().unique())
      .addColumn('role', 'text', (c) => c.notNull())
      .addColumn('password_hash', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();

    await withId(s.createTable('api_tokens'))
      .addColumn('user_id', 'bigint', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('token_hash', 'text', (c) => c.notNull().unique())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('last_used_at', 'bigint')
      .execute();

    await withId(s.createTable('job_types'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('version', 'text', (c) => c.notNull())
      .addColumn('title', 'text', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull())
      .addColumn('category', 'text', (c) => c.notNull())
      .addColumn('is_active', 'integer', (c) => c.notNull())
      .addColumn('is_system', 'integer', (c) => c.notNull())
      .addColumn('is_paused', 'integer', (c) => c.notNull())
      .addColumn('latest_revision', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('last_modified', 'bigint', (c) => c.notNull())
      .addUniqueConstraint('job_types_name_version', ['name', 'version'])
      .execute();

    await withId(s.createTable('job_type_revisions'))
      .addColumn('job_type_id', 'bigint', (c) => c.notNull().references('job_types.id'))
      .addColumn('revision_num', 'integer', (c) => c.notNull())
      .addColumn('definition_json', 'text', (c) => c.notNull())
      .addColumn('manifest_json', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addUniqueConstraint('job_type_revisions_num', ['job_type_id', 'revision_num'])
      .execute();

    await withId(s.createTable('errors'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('job_type_name', 'text')
      .addColumn('title', 'text', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull())
      .addColumn('category', 'text', (c) => c.notNull())
      .addColumn('is_builtin', 'integer', (c) => c.notNull())
      .addColumn('should_be_retried', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('last_modified', 'bigint', (c) => c.notNull())
      .execute();
    await s.createIndex('errors_name').on('errors').columns(['name', 'job_type_name']).execute();

    await withId(s.createTable('batches'))
      .addColumn('title', 'text', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();

    await withId(s.createTable('trigger_events'))
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('description_json', 'text', (c) => c.notNull())
      .addColumn('occurred', 'bigint', (c) => c.notNull())
      .execute();

    await withId(s.createTable('nodes'))
      .addColumn('name', 'text', (c) => c.notNull().unique())
      .addColumn('hostname', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('enabled', 'integer', (c) => c.notNull())
      .addColumn('pools_json', 'text', (c) => c.notNull())
      .addColumn('groups_json', 'text', (c) => c.notNull())
      .addColumn('cpus', real, (c) => c.notNull())
      .addColumn('mem', real, (c) => c.notNull())
      .addColumn('disk', real, (c) => c.notNull())
      .addColumn('gpus', real, (c) => c.notNull())
      .addColumn('slots', 'integer', (c) => c.notNull())
      .addColumn('props_json', 'text', (c) => c.notNull())
      .addColumn('last_heartbeat', 'bigint')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('last_modified', 'bigint', (c) => c.notNull())
      .execute();

    await withId(s.createTable('jobs'))
      .addColumn('job_type_id', 'bigint', (c) => c.notNull().references('job_types.id'))
      .addColumn('job_type_rev_id', 'bigint', (c) =>
        c.notNull().references('job_type_revisions.id'),
      )
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('user_name', 'text', (c) => c.notNull())
      .addColumn('comment', 'text', (c) => c.notNull())
      .addColumn('department', 'text', (c) => c.notNull())
      .addColumn('batch_id', 'bigint', (c) => c.references('batches.id'))
      .addColumn('event_id', 'bigint', (c) => c.references('trigger_events.id'))
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('pend_reason', 'text')
      .addColumn('priority', 'integer', (c) => c.notNull())
      .addColumn('pool', 'text', (c) => c.notNull())
      .addColumn('grp', 'text', (c) => c.notNull())
      .addColumn('frames', 'text', (c) => c.notNull())
      .addColumn('chunk_size', 'integer', (c) => c.notNull())
      .addColumn('task_count', 'integer', (c) => c.notNull())
      .addColumn('tasks_pending', 'integer', (c) => c.notNull())
      .addColumn('tasks_queued', 'integer', (c) => c.notNull())
      .addColumn('tasks_running', 'integer', (c) => c.notNull())
      .addColumn('tasks_suspended', 'integer', (c) => c.notNull())
      .addColumn('tasks_completed', 'integer', (c) => c.notNull())
      .addColumn('tasks_failed', 'integer', (c) => c.notNull())
      .addColumn('tasks_canceled', 'integer', (c) => c.notNull())
      .addColumn('machine_limit', 'integer', (c) => c.notNull())
      .addColumn('node_list_mode', 'text', (c) => c.notNull())
      .addColumn('req_cpus', real, (c) => c.notNull())
      .addColumn('req_mem', real, (c) => c.notNull())
      .addColumn('req_disk', real, (c) => c.notNull())
      .addColumn('req_gpus', real, (c) => c.notNull())
      .addColumn('task_timeout_s', 'integer', (c) => c.notNull())
      .addColumn('job_timeout_s', 'integer', (c) => c.notNull())
      .addColumn('max_tries', 'integer', (c) => c.notNull())
      .addColumn('retry_any_error', 'integer', (c) => c.notNull())
      .addColumn('num_exes', 'integer', (c) => c.notNull())
      .addColumn('input_json', 'text', (c) => c.notNull())
      .addColumn('parameters_json', 'text', (c) => c.notNull())
      .addColumn('dialect_json', 'text', (c) => c.notNull())
      .addColumn('error_name', 'text')
      .addColumn('error_message', 'text')
      .addColumn('scheduled_at', 'bigint')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('queued_at', 'bigint')
      .addColumn('started_at', 'bigint')
      .addColumn('ended_at', 'bigint')
      .addColumn('last_status_change', 'bigint', (c) => c.notNull())
      .addColumn('last_modified', 'bigint', (c) => c.notNull())
      .addColumn('deleted_at', 'bigint')
      .addColumn('archived_at', 'bigint')
      .execute();

    // Dispatch walks this one in order: the best job first among the dispatchable ones.
    await s
      .createIndex('jobs_dispatch')
      .on('jobs')
      .expression(sql`state, priority desc, created_at, id`)
      .execute();
    // One index per filter and sort the faces offer (Deadline, Scale, UFDL, native lists).
    for (const column of [
      'created_at',
      'last_modified',
      'last_status_change',
      'queued_at',
      'started_at',
      'ended_at',
      'priority',
      'name',
      'deleted_at',
      'scheduled_at',
    ]) {
      await s.createIndex(`jobs_${column}`).on('jobs').columns([column, 'id']).execute();
    }
    for (const column of ['user_name', 'job_type_id', 'pool', 'grp', 'batch_id', 'event_id']) {
      await s
        .createIndex(`jobs_${column}`)
        .on('jobs')
        .columns([column, 'created_at', 'id'])
        .execute();
    }
    await s
      .createIndex('jobs_state_created')
      .on('jobs')
      .columns(['state', 'created_at', 'id'])
      .execute();

    await s
      .createTable('job_node_list')
      .addColumn('job_id', 'bigint', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
      .addColumn('node_name', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('job_node_list_pk', ['job_id', 'node_name'])
      .execute();

    await s
      .createTable('job_dependencies')
      .addColumn('job_id', 'bigint', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
      .addColumn('depends_on_id', 'bigint', (c) =>
        c.notNull().references('jobs.id').onDelete('cascade'),
      )
      .addPrimaryKeyConstraint('job_dependencies_pk', ['job_id', 'depends_on_id'])
      .execute();
    await s
      .createIndex('job_dependencies_depends_on')
      .on('job_dependencies')
      .column('depends_on_id')
      .execute();

    await withId(s.createTable('tasks'))
      .addColumn('job_id', 'bigint', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
      .addColumn('task_index', 'integer', (c) => c.notNull())
      .addColumn('frames', 'text', (c) => c.notNull())
      .addColumn('frame_start', 'integer', (c) => c.notNull())
      .addColumn('frame_end', 'integer', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('tries', 'integer', (c) => c.notNull())
      .addColumn('progress', real, (c) => c.notNull())
      .addColumn('node_id', 'bigint')
      .addColumn('last_execution_id', 'bigint')
      .addColumn('started_at', 'bigint')
      .addColumn('ended_at', 'bigint')
      .addColumn('last_status_change', 'bigint', (c) => c.notNull())
      .addColumn('last_modified', 'bigint', (c) => c.notNull())
      .addUniqueConstraint('tasks_job_index', ['job_id', 'task_index'])
      .execute();
    await s
      .createIndex('tasks_job_state')
      .on('tasks')
      .columns(['job_id', 'state', 'task_index'])
      .execute();
    await s.createIndex('tasks_ended_at').on('tasks').column('ended_at').execute();

    await withId(s.createTable('executions'))
      .addColumn('job_id', 'bigint', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
      .addColumn('task_id', 'bigint', (c) => c.notNull().references('tasks.id').onDelete('cascade'))
      .addColumn('node_id', 'bigint', (c) => c.notNull().references('nodes.id'))
      .addColumn('exe_num', 'integer', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('lease_expires_at', 'bigint', (c) => c.notNull())
      .addColumn('progress', real, (c) => c.notNull())
      .addColumn('exit_code', 'integer')
      .addColumn('error_name', 'text')
      .addColumn('error_message', 'text')
      .addColumn('timed_out', 'integer', (c) => c.notNull())
      .addColumn('log_lines', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('started_at', 'bigint')
      .addColumn('ended_at', 'bigint')
      .addColumn('last_heartbeat', 'bigint', (c) => c.notNull())
      .addColumn('last_modified', 'bigint', (c) => c.notNull())
      .execute();
    await s.createIndex('executions_task').on('executions').columns(['task_id', 'id']).execute();
    await s.createIndex('executions_job').on('executions').columns(['job_id', 'exe_num']).execute();
    await s
      .createIndex('executions_node_state')
      .on('executions')
      .columns(['node_id', 'state'])
      .execute();
    // The reaper's scan: live executions ordered by when their lease runs out.
    await s
      .createIndex('executions_state_lease')
      .on('executions')
      .columns(['state', 'lease_expires_at'])
      .execute();

    await withId(s.createTable('log_batches'))
      .addColumn('execution_id', 'bigint', (c) =>
        c.notNull().references('executions.id').onDelete('cascade'),
      )
      .addColumn('first_line', 'integer', (c) => c.notNull())
      .addColumn('line_count', 'integer', (c) => c.notNull())
      .addColumn('lines_json', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await s
      .createIndex('log_batches_execution_line')
      .on('log_batches')
      .columns(['execution_id', 'first_line'])
      .unique()
      .execute();

    await withId(s.createTable('blobs'))
      .addColumn('size', 'bigint', (c) => c.notNull())
      .addColumn('sha256', 'text', (c) => c.notNull())
      .addColumn('data', binary, (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();

    await withId(s.createTable('outputs'))
      .addColumn('job_id', 'bigint', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
      .addColumn('execution_id', 'bigint', (c) =>
        c.references('executions.id').onDelete('set null'),
      )
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('size', 'bigint', (c) => c.notNull())
      .addColumn('sha256', 'text', (c) => c.notNull())
      .addColumn('blob_id', 'bigint', (c) => c.notNull().references('blobs.id'))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('deleted_at', 'bigint')
      .execute();
    await s.createIndex('outputs_job_name').on('outputs').columns(['job_id', 'name']).execute();

    await withId(s.createTable('files'))
      .addColumn('file_name', 'text', (c) => c.notNull())
      .addColumn('media_type', 'text', (c) => c.notNull())
      .addColumn('file_type', 'text', (c) => c.notNull())
      .addColumn('size', 'bigint', (c) => c.notNull())
      .addColumn('sha256', 'text')
      .addColumn('path', 'text', (c) => c.notNull())
      .addColumn('workspace', 'text', (c) => c.notNull())
      .addColumn('blob_id', 'bigint', (c) => c.references('blobs.id'))
      .addColumn('props_json', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('last_modified', 'bigint', (c) => c.notNull())
      .addColumn('deleted_at', 'bigint')
      .execute();
    await s.createIndex('files_file_name').on('files').columns(['file_name', 'id']).execute();

    await s
      .createTable('job_input_files')
      .addColumn('job_id', 'bigint', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
      .addColumn('file_id', 'bigint', (c) => c.notNull().references('files.id'))
      .addColumn('input_name', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('job_input_files_pk', ['job_id', 'file_id', 'input_name'])
      .execute();
    await s.createIndex('job_input_files_file').on('job_input_files').column('file_id').execute();

    await withId(s.createTable('job_archives'))
      .addColumn('job_id', 'bigint', (c) => c.notNull())
      .addColumn('path', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await s.createIndex('job_archives_job').on('job_archives').column('job_id').execute();

    const now = Date.now();
    await db
      .insertInto('errors' as never)
      .values(
        BUILTIN_ERRORS.map((e) => ({
          name: e.name,
          job_type_name: null,
          title: e.title,
          description: e.description,
          category: e.category,
          is_builtin: 1,
          should_be_retried: e.shouldBeRetried ? 1 : 0,
          created_at: now,
          last_modified: now,
        })) as never,
      )
      .execute();
  }

  return { up };
}
