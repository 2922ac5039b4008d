import type { ColumnDataType, CreateTableBuilder, Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/*
 * OpenJD sessions as the worker runs them (docs/openjd.md#sessions-and-environments),
 * modelled on Deadline Cloud's Session and Session Action: a session is one worker's run of
 * an OpenJD job's tasks with its environments entered once; its actions are the
 * environments it entered (envEnter), the tasks it ran (taskRun) and the environments it
 * exited (envExit), in order; its log holds the environments' output and a line per task
 * run naming that task's execution, whose own log keeps the task's output.
 * A session belongs to the OpenJD job (the step jobs' parent, or a lone step job): purging
 * the job removes its sessions, their actions and their log (the foreign keys cascade), as
 * purging removes executions and their logs. Actions name their step job, task and
 * execution without a foreign key: those go with the same purge.
 */
export function sessionsSchema(dialect: DialectName) {
  const pgsql = dialect === 'postgres';
  const real: ColumnDataType = pgsql ? 'double precision' : 'real';
  const withId = <T extends string>(table: CreateTableBuilder<T, never>) =>
    pgsql
      ? table.addColumn('id', 'bigint', (c) => c.primaryKey().generatedByDefaultAsIdentity())
      : table.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());

  async function up(db: Kysely<unknown>): Promise<void> {
    const s = db.schema;
    await withId(s.createTable('sessions'))
      .addColumn('job_id', 'bigint', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
      .addColumn('node_id', 'bigint', (c) => c.notNull().references('nodes.id'))
      // The worker's name for the session: a retried open finds the session it made.
      .addColumn('client_token', 'text', (c) => c.notNull())
      .addColumn('lifecycle_status', 'text', (c) => c.notNull())
      .addColumn('ended_reason', 'text')
      .addColumn('action_count', 'integer', (c) => c.notNull())
      .addColumn('log_lines', 'integer', (c) => c.notNull())
      .addColumn('started_at', 'bigint', (c) => c.notNull())
      .addColumn('ended_at', 'bigint')
      .addColumn('last_modified', 'bigint', (c) => c.notNull())
      .execute();
    await s.createIndex('sessions_job').on('sessions').columns(['job_id', 'id']).execute();
    await s
      .createIndex('sessions_node_token')
      .on('sessions')
      .columns(['node_id', 'client_token'])
      .unique()
      .execute();

    await s
      .createTable('session_actions')
      .addColumn('session_id', 'bigint', (c) =>
        c.notNull().references('sessions.id').onDelete('cascade'),
      )
      .addColumn('action_index', 'integer', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('step_job_id', 'bigint')
      .addColumn('environment', 'text')
      .addColumn('task_id', 'bigint')
      .addColumn('execution_id', 'bigint')
      .addColumn('progress_percent', real)
      .addColumn('process_exit_code', 'integer')
      .addColumn('progress_message', 'text')
      .addColumn('started_at', 'bigint')
      .addColumn('ended_at', 'bigint')
      .addColumn('worker_updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('session_actions_pk', ['session_id', 'action_index'])
      .execute();
    // "Sessions of a step job": the parent's sessions whose actions concern the step.
    await s
      .createIndex('session_actions_step')
      .on('session_actions')
      .columns(['step_job_id', 'session_id'])
      .execute();

    await withId(s.createTable('session_log_batches'))
      .addColumn('session_id', 'bigint', (c) =>
        c.notNull().references('sessions.id').onDelete('cascade'),
      )
      .addColumn('first_line', 'integer', (c) => c.notNull())
      .addColumn('line_count', 'integer', (c) => c.notNull())
      .addColumn('lines_json', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await s
      .createIndex('session_log_batches_line')
      .on('session_log_batches')
      .columns(['session_id', 'first_line'])
      .unique()
      .execute();
  }
  return { up };
}
