import { sql, type RawBuilder, type SqlBool } from 'kysely';
import type { DialectName, Executor } from '../database.js';
import { cappedCount } from './capped-count.js';
import { afterClause, compiler, keysetFields, type Compiler } from './compile.js';
import {
  checkListQuery,
  type Condition,
  type ListQuery,
  type OrderKey,
  type Scalar,
} from './filter-tree.js';
import { RESOURCES, type Resource, type ResourceName } from './list-fields.js';
import { talliedJobCount } from './tallied-count.js';

export interface ListResult<R> {
  rows: R[];
  /**
   * Every match, when the query asked for the count (capped: see capped-count.ts; a jobs
   * filter by state alone is exact from the job tallies: tallied-count.ts).
   */
  total?: number;
  /** False when a capped count passed its limit and `total` is an estimate. */
  totalExact?: boolean;
  /**
   * The key values of the page's last row, to pass as `page.after` for the next page: given
   * when there is a next page and the order is of never-null fields only (keyset pages).
   */
  next?: Scalar[];
}

const KEY = '_drover_key_';

const whereSql = (parts: RawBuilder<SqlBool>[]) =>
  parts.length ? sql`where ${sql.join(parts, sql` and `)}` : sql``;

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
  if (q.page?.after && !keyset) throw new Error('this order cannot be paged by key');
  /** The count is of every match: the page's start (`after`) is left out of it. */
  const where = (c: Compiler, page = true): RawBuilder<SqlBool>[] => {
    const parts = q.where ? [c.condition(q.where)] : [];
    if (page && q.page?.after) parts.push(afterClause(c, order, q.page.after));
    return parts;
  };

  // The page's own rows carry their plain-column sort keys already: nothing more is read.
  const own = keyset && !q.select ? ownColumns(resource, order) : undefined;
  const keyed = keyset !== undefined && own === undefined;
  const statement = readStatement(resource, dialect, q, order, keyset !== undefined, keyed, where);
  let counting: Promise<{ total: number; exact: boolean }> | undefined;
  if (q.count) {
    const tallied =
      resource === RESOURCES.jobs
        ? talliedJobCount(db, q.where, (rest) => countRows(db, 'jobs', rest))
        : undefined;
    const counter = compiler(resource, dialect);
    counting = tallied
      ? tallied.then((total) => ({ total, exact: true }))
      : countMatches(db, dialect, resource, counter, where(counter, false), q.count);
  }
  const [found, count] = await Promise.all([statement.execute(db), counting]);
  const rows = found.rows;
  let next: Scalar[] | undefined;
  if (keyset && q.page) {
    if (rows.length > q.page.limit) {
      rows.length = q.page.limit;
      const last = rows.at(-1);
      if (last) next = order.map((_, i) => last[own ? own[i]! : KEY + i] as Scalar);
    }
    if (keyed) for (const row of rows) order.forEach((_, i) => delete row[KEY + i]);
  }
  return {
    rows: rows as R[],
    ...(count ? { total: count.total, totalExact: count.exact } : {}),
    ...(next ? { next } : {}),
  };
}

/** How many rows of a resource match a filter tree, exactly. */
async function countRows(
  db: Executor,
  resourceName: ResourceName,
  where: Condition,
): Promise<number> {
  checkListQuery({ where });
  const resource = RESOURCES[resourceName];
  const c = compiler(resource, undefined);
  return (await countMatches(db, undefined, resource, c, [c.condition(where)], true)).total;
}

/** `parts` were compiled by `c`, whose joins they may need. */
function countMatches(
  db: Executor,
  dialect: DialectName | undefined,
  resource: Resource,
  c: Compiler,
  parts: RawBuilder<SqlBool>[],
  kind: true | 'capped',
): Promise<{ total: number; exact: boolean }> {
  const from = sql`from ${resource.from} ${sql.join(c.joins(), sql` `)} ${whereSql(parts)}`;
  if (kind === 'capped') {
    if (!dialect) throw new Error('a capped count needs the database dialect');
    return cappedCount(db, dialect, sql`select 1 as one ${from}`);
  }
  return sql<{ n: number | string }>`select count(*) as n ${from}`
    .execute(db)
    .then((r) => ({ total: Number(r.rows[0]?.n ?? 0), exact: true }));
}

/**
 * The columns of the resource's own table that hold each sort key, when every key is one.
 * Then a keyset page reads its next cursor from its last row. Otherwise the keys are read
 * as extra columns and deleted from every row, and `delete` turns a row into a slow
 * dictionary-mode object: the native job list on PostgreSQL spent 1.2–1.8 ms more CPU per
 * page of 50 (jobJson's reads twice as slow, and more garbage collection) than when the
 * keys stayed off the rows.
 */
function ownColumns(resource: Resource, order: readonly OrderKey[]): string[] | undefined {
  const prefix = `${resource.alias}.`;
  const columns: string[] = [];
  for (const key of order) {
    const f = 'field' in key.by ? resource.fields[key.by.field] : undefined;
    const column = f && 'column' in f ? f.column : undefined;
    if (!column?.startsWith(prefix)) return undefined;
    columns.push(column.slice(prefix.length));
  }
  return columns;
}

/**
 * The statement that reads the rows. A page of the resource's own rows reads the page's ids
 * first, then their rows: the ids come from an index alone (the partial indexes of
 * migration 0008 hold the job sort keys), so neither an OFFSET nor a filter the index does
 * not settle reads a table row it then drops. PostgreSQL otherwise walked the primary key
 * backwards testing rows, misled by LIMIT: 29 ms for state=FAILED where the ids take
 * 0.1 ms, 600 ms for a one-day window of a year-old creation date.
 */
function readStatement(
  resource: Resource,
  dialect: DialectName | undefined,
  q: ListQuery,
  order: readonly OrderKey[],
  keyset: boolean,
  keyed: boolean,
  where: (c: Compiler) => RawBuilder<SqlBool>[],
): RawBuilder<Record<string, unknown>> {
  // One row more than the page tells whether a keyset page has a next one.
  const limit = q.page ? q.page.limit + (keyset ? 1 : 0) : undefined;
  const limitSql = sql`${limit !== undefined ? sql`limit ${limit}` : sql``}
    ${q.page?.offset ? sql`offset ${q.page.offset}` : sql``}`;
  const keys = (c: Compiler) =>
    keyed ? order.map((key, i) => sql`${c.expr(key.by)} as ${sql.id(KEY + i)}`) : [];

  const c = compiler(resource, dialect);
  if (q.page && !q.select) {
    const conditions = whereSql(where(c));
    const orderSql = sql.join(order.map(c.order));
    const ids = sql`select ${sql.ref(`${resource.alias}.id`)}
      from ${resource.from} ${sql.join(c.joins(), sql` `)}
      ${conditions} order by ${orderSql} ${limitSql}`;
    const outer = compiler(resource, dialect);
    const columns = [sql.raw(`${resource.alias}.*`), ...keys(outer)];
    const outerOrder = sql.join(order.map(outer.order));
    return sql<Record<string, unknown>>`select ${sql.join(columns)}
      from ${resource.from} ${sql.join(outer.joins(), sql` `)}
      where ${sql.ref(`${resource.alias}.id`)} in (${ids})
      order by ${outerOrder}`;
  }
  const conditions = whereSql(where(c));
  const columns = q.select
    ? Object.entries(q.select).map(([name, e]) => sql`${c.expr(e)} as ${sql.id(name)}`)
    : [sql.raw(`${resource.alias}.*`)];
  columns.push(...keys(c));
  const orderSql = sql.join(order.map(c.order));
  return sql<Record<string, unknown>>`select ${sql.join(columns)}
    from ${resource.from} ${sql.join(c.joins(), sql` `)}
    ${conditions}
    order by ${orderSql}
    ${limitSql}`;
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
