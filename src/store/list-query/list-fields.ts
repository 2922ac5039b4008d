import { sql, type RawBuilder, type SqlBool } from 'kysely';
import type { Scalar } from './filter-tree.js';

/*
 * The fields of each resource the list query reads, named in Drover's own terms, as SQL
 * over the resource's table and the joins each field needs. A face maps its field names to
 * these (or to expressions over them) in its own folder.
 */

export type FieldDef =
  | {
      sql: RawBuilder<unknown>;
      /** `alias.column` when the field is a plain column (see `ownColumns` in list-rows.ts). */
      column?: string;
      joins?: string[];
      nullable?: boolean;
      /** A SQLite FTS5 trigram table of this text, by the resource's id (see `search`). */
      trigrams?: string;
    }
  | { holds: RawBuilder<SqlBool>; joins?: string[] }
  | { has: (values: readonly Scalar[]) => RawBuilder<SqlBool>; joins?: string[] };

export interface Resource {
  name: string;
  /** `from` clause of the resource's table, and its alias for `alias.*` and `alias.id`. */
  from: RawBuilder<unknown>;
  alias: string;
  /** Joins in the order they must be written (a join may use an earlier one). */
  joins: { name: string; sql: RawBuilder<unknown> }[];
  fields: Record<string, FieldDef>;
}

const col = (ref: string, nullable = true, joins?: string[]): FieldDef => ({
  sql: sql.ref(ref),
  column: ref,
  nullable,
  ...(joins ? { joins } : {}),
});

const JOB_TYPE = ['jt'];
const TASK_EXECUTION = ['te', 'e'];

export const JOBS: Resource = {
  name: 'jobs',
  from: sql`jobs j`,
  alias: 'j',
  joins: [
    { name: 'jt', sql: sql`inner join job_types jt on jt.id = j.job_type_id` },
    { name: 'pj', sql: sql`left join jobs pj on pj.id = j.parent_id` },
    // The one task of a single-task job, and that task's last execution.
    { name: 'te', sql: sql`left join tasks t on t.job_id = j.id and j.task_count = 1` },
    { name: 'e', sql: sql`left join executions e on e.id = t.last_execution_id` },
    { name: 'u', sql: sql`left join users u on u.name = j.user_name` },
    { name: 's', sql: sql`left join job_sources s on s.job_id = j.id` },
  ],
  fields: {
    id: col('j.id', false),
    name: { ...col('j.name', false), trigrams: 'jobs_name_fts' },
    job_type_id: col('j.job_type_id', false),
    job_type_rev_id: col('j.job_type_rev_id', false),
    parent_id: col('j.parent_id'),
    child_name: col('j.child_name'),
    state: col('j.state', false),
    comment: col('j.comment', false),
    user_name: col('j.user_name', false),
    pool: col('j.pool', false),
    project: col('j.project', false),
    group: col('j.grp', false),
    priority: col('j.priority', false),
    batch_id: col('j.batch_id'),
    event_id: col('j.event_id'),
    error_name: col('j.error_name'),
    error_message: col('j.error_message'),
    task_count: col('j.task_count', false),
    tasks_running: col('j.tasks_running', false),
    num_exes: col('j.num_exes', false),
    max_tries: col('j.max_tries', false),
    task_timeout_s: col('j.task_timeout_s'),
    created_at: col('j.created_at', false),
    queued_at: col('j.queued_at'),
    started_at: col('j.started_at'),
    ended_at: col('j.ended_at'),
    deleted_at: col('j.deleted_at'),
    archived_at: col('j.archived_at'),
    last_modified: col('j.last_modified', false),
    last_status_change: col('j.last_status_change', false),
    input_json: col('j.input_json', false),
    parameters_json: col('j.parameters_json', false),
    dialect_json: col('j.dialect_json', false),
    'job_type.name': col('jt.name', false, JOB_TYPE),
    'job_type.version': col('jt.version', false, JOB_TYPE),
    'job_type.title': col('jt.title', true, JOB_TYPE),
    'job_type.description': col('jt.description', true, JOB_TYPE),
    'job_type.category': col('jt.category', true, JOB_TYPE),
    'parent.job_type_rev_id': col('pj.job_type_rev_id', true, ['pj']),
    /** The last execution of a single-task job's one task (null for other jobs). */
    'task_execution.id': col('e.id', true, TASK_EXECUTION),
    'task_execution.state': col('e.state', true, TASK_EXECUTION),
    'task_execution.node_id': col('e.node_id', true, TASK_EXECUTION),
    'task_execution.progress': col('e.progress', true, TASK_EXECUTION),
    'task_execution.started_at': col('e.started_at', true, TASK_EXECUTION),
    'user.id': col('u.id', true, ['u']),
    'source.started': col('s.source_started', true, ['s']),
    'source.ended': col('s.source_ended', true, ['s']),
    'source.sensor_class': col('s.source_sensor_class', true, ['s']),
    'source.sensor': col('s.source_sensor', true, ['s']),
    'source.collection': col('s.source_collection', true, ['s']),
    'source.task': col('s.source_task', true, ['s']),
    'source.input_file_size': col('s.input_file_size', true, ['s']),
    /** The jobs that wait on one of the given jobs (by the index job_dependencies_depends_on). */
    depends_on: {
      has: (values) =>
        sql<SqlBool>`j.id in (select job_id from job_dependencies where depends_on_id in (${sql.join([...values])}))`,
    },
    /** The jobs one of the given jobs waits on (by job_dependencies' primary key). */
    dependency_of: {
      has: (values) =>
        sql<SqlBool>`j.id in (select depends_on_id from job_dependencies where job_id in (${sql.join([...values])}))`,
    },
    /** A job it depends on FAILED or was CANCELED. */
    dependency_failed: {
      holds: sql<SqlBool>`exists (select 1 from job_dependencies d inner join jobs dj on dj.id = d.depends_on_id where d.job_id = j.id and dj.state in ('FAILED', 'CANCELED'))`,
    },
    /** The category of the job's error, for its job type or any (errors.job_type_name null). */
    error_category: {
      joins: JOB_TYPE,
      has: (values) =>
        sql<SqlBool>`exists (select 1 from errors er where er.name = j.error_name and (er.job_type_name is null or er.job_type_name = jt.name) and er.category in (${sql.join([...values])}))`,
    },
  },
};

export const EXECUTIONS: Resource = {
  name: 'executions',
  from: sql`executions e`,
  alias: 'e',
  joins: [
    { name: 'j', sql: sql`inner join jobs j on j.id = e.job_id` },
    { name: 'jt', sql: sql`inner join job_types jt on jt.id = j.job_type_id` },
  ],
  fields: {
    id: col('e.id', false),
    job_id: col('e.job_id', false),
    exe_num: col('e.exe_num', false),
    state: col('e.state', false),
    node_id: col('e.node_id'),
    error_name: col('e.error_name'),
    created_at: col('e.created_at', false),
    last_modified: col('e.last_modified', false),
    'job.deleted_at': col('j.deleted_at', true, ['j']),
    'job_type.id': col('jt.id', false, ['j', 'jt']),
    'job_type.name': col('jt.name', false, ['j', 'jt']),
    'job_type.category': col('jt.category', true, ['j', 'jt']),
    /** The category of the execution's error (any job type's). */
    error_category: {
      has: (values) =>
        sql<SqlBool>`exists (select 1 from errors er where er.name = e.error_name and er.category in (${sql.join([...values])}))`,
    },
  },
};

export const OUTPUTS: Resource = {
  name: 'outputs',
  from: sql`outputs o`,
  alias: 'o',
  joins: [],
  fields: {
    id: col('o.id', false),
    job_id: col('o.job_id', false),
    name: col('o.name', false),
    type: col('o.type', false),
    created_at: col('o.created_at', false),
    deleted_at: col('o.deleted_at'),
  },
};

export const JOB_TYPES: Resource = {
  name: 'job types',
  from: sql`job_types jt`,
  alias: 'jt',
  joins: [],
  fields: {
    id: col('jt.id', false),
    name: col('jt.name', false),
    version: col('jt.version', false),
    is_active: col('jt.is_active', false),
    is_system: col('jt.is_system', false),
  },
};

export const RESOURCES = {
  jobs: JOBS,
  executions: EXECUTIONS,
  outputs: OUTPUTS,
  jobTypes: JOB_TYPES,
};
export type ResourceName = keyof typeof RESOURCES;
