import { sql, type RawBuilder, type SqlBool } from 'kysely';
import type { DialectName, Executor } from './database.js';
import type { OutputRow } from './outputs.js';
import {
  ufdlConditionSql,
  ufdlOrderSql,
  type UfdlColumns,
  type UfdlCondition,
  type UfdlOrder,
} from './ufdl-filter-sql.js';

/*
 * Job outputs as UFDL's /v1/job-outputs lists them, filtered and ordered in SQL: a farm
 * keeps far more outputs than a request may read. Drover does not record who uploaded an
 * output, so `creator` is always null.
 */

export const UFDL_OUTPUT_COLUMNS: UfdlColumns = {
  pk: { expr: sql`o.id`, kind: 'int' },
  job: { expr: sql`o.job_id`, kind: 'int' },
  name: { expr: sql`o.name`, kind: 'text' },
  type: { expr: sql`o.type`, kind: 'text' },
  creator: { expr: sql`cast(null as bigint)`, kind: 'int' },
  creation_time: { expr: sql`o.created_at`, kind: 'time' },
  deletion_time: { expr: sql`o.deleted_at`, kind: 'time' },
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
  const where: RawBuilder<SqlBool>[] = q.conditions.map((c) =>
    ufdlConditionSql(dialect, UFDL_OUTPUT_COLUMNS, c),
  );
  if (!q.includeInactive) where.push(sql<SqlBool>`o.deleted_at is null`);
  const order = q.order.map((o) => ufdlOrderSql(UFDL_OUTPUT_COLUMNS, o));
  order.push(sql`o.id asc`);
  const result = await sql<OutputRow>`select o.* from outputs o
    ${where.length ? sql`where ${sql.join(where, sql` and `)}` : sql``}
    order by ${sql.join(order)}
    limit ${q.limit}`.execute(db);
  return result.rows;
}
