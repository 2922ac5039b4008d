import type { DialectName, Executor } from '../../store/database.js';
import { findRow, listRows, type Condition, type Expr } from '../../store/list-query/index.js';
import {
  ufdlConditionTree,
  ufdlOrderKey,
  type UfdlColumns,
  type UfdlCondition,
  type UfdlOrder,
} from './filter-tree.js';

export type { UfdlColumnKind, UfdlCondition, UfdlOrder } from './filter-tree.js';

/*
 * Jobs as UFDL's job server shows them. UFDL keeps start_time, end_time, error_reason and
 * node on the job; Drover derives them from the job's state, its one task and that task's
 * last execution (the mapping table is phase-mapping.ts; these expressions are its
 * query side, and the dialect's tests check that both agree). Being values of the store's
 * one list query, every UFDL field can be filtered and ordered on in SQL, and lists never
 * load more than they return.
 */

const f = (field: string): Expr => ({ field });
const lit = (literal: string | number): Expr => ({ literal });
const SINGLE: Condition = { compare: f('task_count'), op: '=', to: lit(1) };
const NOT_SINGLE: Condition = { not: SINGLE };
const stateIn = (...states: string[]): Condition => ({ in: f('state'), values: states });
const FINAL = stateIn('COMPLETED', 'FAILED', 'CANCELED');
const LIVE: Condition = { in: f('task_execution.state'), values: ['ACQUIRED', 'RUNNING'] };
const NULL_INT: Expr = { literal: null, type: 'int' };

/** The UFDL fields, as expressions over the store's job fields. */
export const UFDL_JOB_COLUMNS: UfdlColumns = {
  pk: { expr: f('id'), kind: 'int' },
  template: { expr: f('job_type_id'), kind: 'int' },
  template_name: { expr: f('job_type.name'), kind: 'text' },
  template_version: { expr: f('job_type.version'), kind: 'text' },
  template_description: { expr: f('job_type.description'), kind: 'text' },
  /** Non-null when a single UFDL node can work the job: one task (no frames). */
  workable_template: {
    expr: { case: [{ when: SINGLE, then: f('job_type_id') }], else: NULL_INT },
    kind: 'int',
  },
  parent: { expr: f('parent_id'), kind: 'int' },
  start_time: {
    expr: {
      case: [
        { when: NOT_SINGLE, then: f('started_at') },
        {
          when: stateIn('COMPLETED', 'FAILED'),
          then: { coalesce: [f('task_execution.started_at'), f('started_at'), f('ended_at')] },
        },
        { when: stateIn('CANCELED'), then: f('task_execution.started_at') },
        {
          when: { compare: f('task_execution.state'), op: '=', to: lit('RUNNING') },
          then: f('task_execution.started_at'),
        },
      ],
      else: NULL_INT,
    },
    kind: 'time',
  },
  end_time: {
    expr: { case: [{ when: stateIn('COMPLETED', 'FAILED'), then: f('ended_at') }], else: NULL_INT },
    kind: 'time',
  },
  error_reason: {
    expr: {
      case: [
        {
          when: stateIn('FAILED'),
          then: {
            coalesce: [f('error_message'), f('error_name'), { literal: 'failed', type: 'text' }],
          },
        },
        { when: stateIn('CANCELED'), then: { literal: 'Cancelled', type: 'text' } },
      ],
      else: { literal: null, type: 'text' },
    },
    kind: 'text',
  },
  node: {
    expr: {
      case: [
        { when: NOT_SINGLE, then: NULL_INT },
        { when: FINAL, then: f('task_execution.node_id') },
        { when: LIVE, then: f('task_execution.node_id') },
      ],
      else: NULL_INT,
    },
    kind: 'int',
  },
  description: { expr: f('comment'), kind: 'text' },
  is_cancelled: {
    expr: {
      case: [{ when: stateIn('CANCELED'), then: { literal: 1, type: 'int' } }],
      else: { literal: 0, type: 'int' },
    },
    kind: 'bool',
  },
  creator: { expr: f('user.id'), kind: 'int' },
  creator_username: { expr: f('user_name'), kind: 'text' },
  creation_time: { expr: f('created_at'), kind: 'time' },
  deletion_time: { expr: f('deleted_at'), kind: 'time' },
};

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

/** What a UFDL job row reads: its fields, and the engine facts the renderer needs. */
const SELECTION: Record<string, Expr> = {
  ...Object.fromEntries(Object.entries(UFDL_JOB_COLUMNS).map(([name, c]) => [name, c.expr])),
  state: f('state'),
  task_count: f('task_count'),
  execution_id: f('task_execution.id'),
  execution_state: f('task_execution.state'),
  execution_node: f('task_execution.node_id'),
  execution_progress: f('task_execution.progress'),
  job_type_rev_id: f('job_type_rev_id'),
  input_json: f('input_json'),
  parameters_json: f('parameters_json'),
  dialect_json: f('dialect_json'),
  child_name: f('child_name'),
  parent_rev_id: f('parent.job_type_rev_id'),
};

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
  const where = q.conditions.map((c) => ufdlConditionTree(UFDL_JOB_COLUMNS, c));
  if (!q.includeInactive) where.push({ isNull: f('deleted_at') });
  const { rows } = await listRows<UfdlJobViewRow>(db, dialect, 'jobs', {
    select: SELECTION,
    where: { and: where },
    order: q.order.map((o) => ufdlOrderKey(UFDL_JOB_COLUMNS, o)),
    page: { limit: q.limit },
  });
  return rows.map(normalise);
}

export async function findUfdlJob(db: Executor, id: number): Promise<UfdlJobViewRow | undefined> {
  const row = await findRow<UfdlJobViewRow>(db, 'jobs', id, SELECTION);
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
