import { sql, type RawBuilder, type SqlBool } from 'kysely';
import type { DialectName, Executor } from '../database.js';
import { afterCondition, compiler, keysetFields } from './compile.js';
import { checkListQuery, type ListQuery, type OrderKey, type Scalar } from './filter-tree.js';
import { RESOURCES, type ResourceName } from './list-fields.js';

export interface ListResult<R> {
  rows: R[];
  /** Every match, when the query asked for the count. */
  total?: number;
  /**
   * The key values of the page's last row, to pass as `page.after` for the next page: given
   * when there is a next page and the order is of never-null fields only (keyset pages).
   */
  next?: Scalar[];
}

const KEY = '_drover_key_';

/**
 * One page of a resource's rows that match a filter tree, in one order. The rows are the
 * resource's own (`alias.*`) unless the query selects named values.
 */
export async function listRows<R = Record<string, unknown>>(
  db: Executor,
  dialect: DialectName | undefined,
  resourceName: ResourceName,
  q: ListQuery,
): Promise<ListResult<R>> {
  checkListQuery(q);
  const resource = RESOURCES[resourceName];
  const order: OrderKey[] = [
    ...(q.order ?? []),
    { by: { field: 'id' }, direction: q.tieBreak ?? 'asc' },
  ];
  const keyset = q.page ? keysetFields(resource, order) : undefined;
  const where = (c: ReturnType<typeof compiler>): RawBuilder<SqlBool>[] => {
    const parts = q.where ? [c.condition(q.where)] : [];
    if (q.page?.after) {
      if (!keyset) throw new Error('this order cannot be paged by key');
      parts.push(c.condition(afterCondition(order, q.page.after)));
    }
    return parts;
  };
  const whereSql = (parts: RawBuilder<SqlBool>[]) =>
    parts.length ? sql`where ${sql.join(parts, sql` and `)}` : sql``;

  const c = compiler(resource, dialect);
  const conditions = where(c);
  const columns = q.select
    ? Object.entries(q.select).map(([name, e]) => sql`${c.expr(e)} as ${sql.id(name)}`)
    : [sql.raw(`${resource.alias}.*`)];
  if (keyset) order.forEach((key, i) => columns.push(sql`${c.expr(key.by)} as ${sql.id(KEY + i)}`));
  const orderSql = sql.join(order.map(c.order));
  // One row more than the page tells whether a keyset page has a next one.
  const limit = q.page ? q.page.limit + (keyset ? 1 : 0) : undefined;
  const statement = sql<Record<string, unknown>>`select ${sql.join(columns)}
    from ${resource.from} ${sql.join(c.joins(), sql` `)}
    ${whereSql(conditions)}
    order by ${orderSql}
    ${limit !== undefined ? sql`limit ${limit}` : sql``}
    ${q.page?.offset ? sql`offset ${q.page.offset}` : sql``}`;

  let counting: Promise<number> | undefined;
  if (q.count) {
    const counter = compiler(resource, dialect);
    const countConditions = where(counter);
    counting = sql<{ n: number | string }>`select count(*) as n
      from ${resource.from} ${sql.join(counter.joins(), sql` `)}
      ${whereSql(countConditions)}`
      .execute(db)
      .then((r) => Number(r.rows[0]?.n ?? 0));
  }
  const [found, total] = await Promise.all([statement.execute(db), counting]);
  const rows = found.rows;
  let next: Scalar[] | undefined;
  if (keyset && q.page) {
    if (rows.length > q.page.limit) {
      rows.length = q.page.limit;
      const last = rows.at(-1);
      if (last) next = order.map((_, i) => last[KEY + i] as Scalar);
    }
    for (const row of rows) order.forEach((_, i) => delete row[KEY + i]);
  }
  return {
    rows: rows as R[],
    ...(total !== undefined ? { total } : {}),
    ...(next ? { next } : {}),
  };
}

/** One row by id, as `select` names its values (or the resource's own row). */
export async function findRow<R = Record<string, unknown>>(
  db: Executor,
  resourceName: ResourceName,
  id: number,
  select?: ListQuery['select'],
): Promise<R | undefined> {
  const { rows } = await listRows<R>(db, undefined, resourceName, {
    where: { compare: { field: 'id' }, op: '=', to: { literal: id } },
    ...(select ? { select } : {}),
  });
  return rows[0];
}
