import { sql, type RawBuilder, type SqlBool } from 'kysely';
import type { DialectName, Executor } from './database.js';
import {
  ufdlConditionSql,
  ufdlOrderSql,
  type UfdlColumnKind,
  type UfdlCondition,
  type UfdlOrder,
} from './ufdl-filter-sql.js';

export type { UfdlColumnKind, UfdlCondition, UfdlOrder } from './ufdl-filter-sql.js';

/*
 * Jobs as UFDL's job server shows them. UFDL keeps start_time, end_time, error_reason and
 * node on the job; Drover derives them from the job's state, its one task and that task's
 * last execution (the mapping table is api/ufdl/phase-mapping.ts; these expressions are its
 * SQL side, and the dialect's tests check that both agree). Being columns of one derived
 * table, every UFDL field can be filtered and ordered on in SQL, and lists never load more
 * than they return.
 */

const SINGLE = sql`j.task_count = 1`;
const FINAL = sql`j.state in ('COMPLETED', 'FAILED', 'CANCELED')`;
const LIVE = sql`e.state in ('ACQUIRED', 'RUNNING')`;

/** The UFDL fields, as SQL over jobs j, job_types jt, the single task t, its execution e, users u. */
export const UFDL_JOB_COLUMNS: Record<string, { expr: RawBuilder<unknown>; kind: UfdlColumnKind }> =
  {
    pk: { expr: sql`j.id`, kind: 'int' },
    template: { expr: sql`j.job_type_id`, kind: 'int' },
    template_name: { expr: sql`jt.name`, kind: 'text' },
    template_version: { expr: sql`jt.version`, kind: 'text' },
    template_description: { expr: sql`jt.description`, kind: 'text' },
    /** Non-null when a single UFDL node can work the job: one task (no frames). */
    workable_template: {
      expr: sql`case when ${SINGLE} then j.job_type_id else null end`,
      kind: 'int',
    },
    parent: { expr: sql`j.parent_id`, kind: 'int' },
    start_time: {
      expr: sql`case
        when not (${SINGLE}) then j.started_at
        when j.state in ('COMPLETED', 'FAILED') then coalesce(e.started_at, j.started_at, j.ended_at)
        when j.state = 'CANCELED' then e.started_at
        when e.state = 'RUNNING' then e.started_at
        else null end`,
      kind: 'time',
    },
    end_time: {
      expr: sql`case when j.state in ('COMPLETED', 'FAILED') then j.ended_at else null end`,
      kind: 'time',
    },
    error_reason: {
      expr: sql`case
        when j.state = 'FAILED' then coalesce(j.error_message, j.error_name, 'failed')
        when j.state = 'CANCELED' then 'Cancelled'
        else null end`,
      kind: 'text',
    },
    node: {
      expr: sql`case
        when not (${SINGLE}) then null
        when ${FINAL} then e.node_id
        when ${LIVE} then e.node_id
        else null end`,
      kind: 'int',
    },
    description: { expr: sql`j.comment`, kind: 'text' },
    is_cancelled: {
      expr: sql`case when j.state = 'CANCELED' then 1 else 0 end`,
      kind: 'bool',
    },
    creator: { expr: sql`u.id`, kind: 'int' },
    creator_username: { expr: sql`j.user_name`, kind: 'text' },
    creation_time: { expr: sql`j.created_at`, kind: 'time' },
    deletion_time: { expr: sql`j.deleted_at`, kind: 'time' },
  };

export type UfdlJobColumn = keyof typeof UFDL_JOB_COLUMNS;

export interface UfdlJobViewRow {
  pk: number;
  template: number;
  template_name: string;
  template_version: string;
  workable_template: number | null;
  parent: number | null;
  start_time: number | null;
  end_time: number | null;
  error_reason: string | null;
  node: number | null;
  description: string;
  is_cancelled: number;
  creator: number | null;
  creation_time: number;
  deletion_time: number | null;
  /** Engine facts the renderer needs besides the UFDL fields. */
  state: string;
  task_count: number;
  execution_id: number | null;
  execution_state: string | null;
  execution_node: number | null;
  execution_progress: number | null;
  job_type_rev_id: number;
  /** A child's name in its parent's type, and the revision of the parent's type. */
  child_name: string | null;
  parent_rev_id: number | null;
  input_json: string;
  parameters_json: string;
  dialect_json: string;
}

function baseQuery() {
  const cols = Object.entries(UFDL_JOB_COLUMNS).map(
    ([name, c]) => sql`${c.expr} as ${sql.id(name)}`,
  );
  return sql`select ${sql.join(cols)},
      j.state as state, j.task_count as task_count, e.id as execution_id,
      e.state as execution_state, e.node_id as execution_node, e.progress as execution_progress,
      j.job_type_rev_id as job_type_rev_id, j.input_json as input_json,
      j.parameters_json as parameters_json, j.dialect_json as dialect_json,
      j.child_name as child_name, pj.job_type_rev_id as parent_rev_id
    from jobs j
    inner join job_types jt on jt.id = j.job_type_id
    left join jobs pj on pj.id = j.parent_id
    left join tasks t on t.job_id = j.id and j.task_count = 1
    left join executions e on e.id = t.last_execution_id
    left join users u on u.name = j.user_name`;
}

export interface UfdlJobQuery {
  conditions: UfdlCondition[];
  order: UfdlOrder[];
  includeInactive: boolean;
  limit: number;
}

export async function listUfdlJobs(
  db: Executor,
  dialect: DialectName,
  q: UfdlJobQuery,
): Promise<UfdlJobViewRow[]> {
  const where: RawBuilder<SqlBool>[] = q.conditions.map((c) =>
    ufdlConditionSql(dialect, UFDL_JOB_COLUMNS, c),
  );
  if (!q.includeInactive) where.push(sql<SqlBool>`j.deleted_at is null`);
  const order = q.order.map((o) => ufdlOrderSql(UFDL_JOB_COLUMNS, o));
  order.push(sql`j.id asc`);
  const query = sql<UfdlJobViewRow>`${baseQuery()}
    ${where.length ? sql`where ${sql.join(where, sql` and `)}` : sql``}
    order by ${sql.join(order)}
    limit ${q.limit}`;
  const result = await query.execute(db);
  return result.rows.map(normalise);
}

export async function findUfdlJob(db: Executor, id: number): Promise<UfdlJobViewRow | undefined> {
  const result = await sql<UfdlJobViewRow>`${baseQuery()} where j.id = ${id}`.execute(db);
  const row = result.rows[0];
  return row && normalise(row);
}

/** SQLite and pg hand back numbers in different shapes; make them plain numbers. */
function normalise(row: UfdlJobViewRow): UfdlJobViewRow {
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    ...row,
    pk: Number(row.pk),
    template: Number(row.template),
    template_version: String(row.template_version),
    workable_template: num(row.workable_template),
    start_time: num(row.start_time),
    end_time: num(row.end_time),
    node: num(row.node),
    is_cancelled: Number(row.is_cancelled),
    creator: num(row.creator),
    creation_time: Number(row.creation_time),
    deletion_time: num(row.deletion_time),
    task_count: Number(row.task_count),
    execution_id: num(row.execution_id),
    execution_node: num(row.execution_node),
    execution_progress: num(row.execution_progress),
    job_type_rev_id: Number(row.job_type_rev_id),
    parent_rev_id: num(row.parent_rev_id),
  };
}
