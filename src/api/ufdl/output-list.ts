import type { DialectName, Executor } from '../../store/database.js';
import { listRows } from '../../store/list-query/index.js';
import type { OutputRow } from '../../store/outputs.js';
import {
  ufdlConditionTree,
  ufdlOrderKey,
  type UfdlColumns,
  type UfdlCondition,
  type UfdlOrder,
} from './filter-tree.js';

/*
 * Job outputs as UFDL's /v1/job-outputs lists them, filtered and ordered in SQL: a farm
 * keeps far more outputs than a request may read. Drover does not record who uploaded an
 * output, so `creator` is always null.
 */

export const UFDL_OUTPUT_COLUMNS: UfdlColumns = {
  pk: { expr: { field: 'id' }, kind: 'int' },
  job: { expr: { field: 'job_id' }, kind: 'int' },
  name: { expr: { field: 'name' }, kind: 'text' },
  type: { expr: { field: 'type' }, kind: 'text' },
  creator: { expr: { literal: null, type: 'int' }, kind: 'int' },
  creation_time: { expr: { field: 'created_at' }, kind: 'time' },
  deletion_time: { expr: { field: 'deleted_at' }, kind: 'time' },
};

export interface UfdlOutputQuery {
  conditions: UfdlCondition[];
  order: UfdlOrder[];
  includeInactive: boolean;
  limit: number;
}

export async function listUfdlOutputs(
  db: Executor,
  dialect: DialectName,
  q: UfdlOutputQuery,
): Promise<OutputRow[]> {
  const where = q.conditions.map((c) => ufdlConditionTree(UFDL_OUTPUT_COLUMNS, c));
  if (!q.includeInactive) where.push({ isNull: { field: 'deleted_at' } });
  const { rows } = await listRows<OutputRow>(db, dialect, 'outputs', {
    where: { and: where },
    order: q.order.map((o) => ufdlOrderKey(UFDL_OUTPUT_COLUMNS, o)),
    page: { limit: q.limit },
  });
  return rows;
}
