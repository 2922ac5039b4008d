import { sql, type RawBuilder, type SqlBool } from 'kysely';
import type { DialectName } from '../database.js';
import type { Condition, Expr, OrderKey, Scalar } from './filter-tree.js';
import { ListQueryError } from './filter-tree.js';
import type { Resource } from './list-fields.js';

/*
 * The filter tree as SQL, the one place it is compiled for both databases. Values travel as
 * bound parameters; field names only select entries of the resource's catalogue, so no text
 * of a request reaches the statement. Each field names the joins it needs, and only those
 * are made.
 */

export interface Compiler {
  expr(e: Expr): RawBuilder<unknown>;
  condition(c: Condition): RawBuilder<SqlBool>;
  order(key: OrderKey): RawBuilder<unknown>;
  /** The joins the compiled parts named, in the resource's order. */
  joins(): RawBuilder<unknown>[];
}

const OPS = new Set(['=', '<>', '<', '<=', '>', '>=']);

/** Booleans are stored as 0 and 1 in both databases. */
const bound = (v: Scalar) => (typeof v === 'boolean' ? (v ? 1 : 0) : v);

/** `dialect` may be left out by reads that search no substring. */
export function compiler(resource: Resource, dialect: DialectName | undefined): Compiler {
  const used = new Set<string>();
  const field = (name: string) => {
    const f = resource.fields[name];
    if (!f) throw new ListQueryError(`${resource.name} have no field ${name}`);
    for (const join of f.joins ?? []) used.add(join);
    return f;
  };
  const scalar = (name: string): RawBuilder<unknown> => {
    const f = field(name);
    if (!('sql' in f)) throw new ListQueryError(`${resource.name}.${name} is not a value`);
    return f.sql;
  };
  const expr = (e: Expr): RawBuilder<unknown> => {
    if ('field' in e) return scalar(e.field);
    if ('literal' in e) {
      if (e.type)
        return sql`cast(${bound(e.literal)} as ${sql.raw(e.type === 'int' ? 'bigint' : 'text')})`;
      return sql`${bound(e.literal)}`;
    }
    if ('case' in e) {
      const branches = e.case.map((b) => sql`when ${condition(b.when)} then ${expr(b.then)}`);
      const otherwise = e.else ? expr(e.else) : sql`null`;
      return sql`(case ${sql.join(branches, sql` `)} else ${otherwise} end)`;
    }
    if ('coalesce' in e) return sql`coalesce(${sql.join(e.coalesce.map(expr))})`;
    if ('text' in e) return sql`cast(${expr(e.text)} as text)`;
    if ('lower' in e) return sql`lower(${expr(e.lower)})`;
    return sql`(${expr(e.minus[0])} - ${expr(e.minus[1])})`;
  };
  /**
   * SQLite finds the candidates in the field's trigram FTS table (migration 0008), and the
   * LIKE keeps the exact semantics (FTS folds non-ASCII case too, LIKE does not). Trigrams
   * need 3 characters; shorter text scans. PostgreSQL's pg_trgm index serves the LIKE
   * itself. Before: a scan of every name, 670 ms over a million jobs on SQLite.
   */
  const search = (name: string, text: string): RawBuilder<SqlBool> => {
    const f = field(name);
    if (!('sql' in f)) throw new ListQueryError(`${resource.name}.${name} is not a value`);
    if (!dialect) throw new Error('a text search needs the database dialect');
    const escaped = text.toLowerCase().replace(/[\\%_]/g, (ch) => `\\${ch}`);
    // SQLite's LIKE has no escape character unless one is named; PostgreSQL's is '\'.
    const like = sql<SqlBool>`lower(${f.sql}) like ${`%${escaped}%`} escape '\\'`;
    if (dialect !== 'sqlite' || !f.trigrams || [...text].length < 3) return like;
    const phrase = `"${text.replace(/"/g, '""')}"`;
    const fts = sql.id(f.trigrams);
    const id = sql.ref(`${resource.alias}.id`);
    return sql<SqlBool>`(${id} in (select rowid from ${fts} where ${fts} match ${phrase}) and ${like})`;
  };
  const condition = (c: Condition): RawBuilder<SqlBool> => {
    if ('compare' in c) {
      if (!OPS.has(c.op)) throw new ListQueryError(`unknown comparison ${String(c.op)}`);
      return sql<SqlBool>`${expr(c.compare)} ${sql.raw(c.op)} ${expr(c.to)}`;
    }
    if ('in' in c) {
      if (c.values.length === 0) return sql<SqlBool>`1 = 0`;
      return sql<SqlBool>`${expr(c.in)} in (${sql.join(c.values.map(bound))})`;
    }
    if ('isNull' in c) return sql<SqlBool>`(${expr(c.isNull)}) is null`;
    if ('contains' in c) {
      // LIKE ignores case in SQLite and treats % and _ as wildcards; a substring search does neither.
      const [hay, needle] = [expr(c.contains), expr(c.needle)];
      if (!dialect) throw new Error('a substring search needs the database dialect');
      return dialect === 'postgres'
        ? sql<SqlBool>`strpos(${hay}, ${needle}) > 0`
        : sql<SqlBool>`instr(${hay}, ${needle}) > 0`;
    }
    if ('search' in c) return search(c.search, c.text);
    if ('holds' in c) {
      const f = field(c.holds);
      if (!('holds' in f)) throw new ListQueryError(`${resource.name}.${c.holds} is not a fact`);
      return f.holds;
    }
    if ('has' in c) {
      const f = field(c.has);
      if (!('has' in f)) throw new ListQueryError(`${resource.name}.${c.has} is not a relation`);
      if (c.values.length === 0) return sql<SqlBool>`1 = 0`;
      return f.has(c.values.map(bound));
    }
    if ('and' in c || 'or' in c) {
      const items = 'and' in c ? c.and : c.or;
      if (items.length === 0) return 'and' in c ? sql<SqlBool>`1 = 1` : sql<SqlBool>`1 = 0`;
      return sql<SqlBool>`(${sql.join(items.map(condition), 'and' in c ? sql` and ` : sql` or `)})`;
    }
    // A null inner condition counts as not holding, as Django's exclude() reads it.
    if ('not' in c) return sql<SqlBool>`not coalesce(${condition(c.not)}, false)`;
    return sql<SqlBool>`1 = 0`;
  };
  const order = (key: OrderKey): RawBuilder<unknown> => {
    const nulls = key.nulls === undefined ? sql`` : sql.raw(` nulls ${key.nulls}`);
    return sql`${expr(key.by)} ${sql.raw(key.direction === 'desc' ? 'desc' : 'asc')}${nulls}`;
  };
  return {
    expr,
    condition,
    order,
    joins: () => resource.joins.filter((j) => used.has(j.name)).map((j) => j.sql),
  };
}

/** The order keys a keyset page can follow: plain fields that are never null. */
export function keysetFields(resource: Resource, order: readonly OrderKey[]): string[] | undefined {
  const names: string[] = [];
  for (const key of order) {
    if (!('field' in key.by)) return undefined;
    const f = resource.fields[key.by.field];
    if (!f || !('sql' in f) || f.nullable !== false) return undefined;
    names.push(key.by.field);
  }
  return names;
}

/**
 * Rows strictly after `values` in `order` (whose last key is the unique id): with mixed
 * directions `a < x or (a = x and (b > y or …))`, with `a <= x` beside it so that the
 * leading key still bounds an index scan.
 */
export function afterCondition(order: readonly OrderKey[], values: readonly Scalar[]): Condition {
  if (values.length !== order.length) {
    throw new ListQueryError('a page cursor does not fit this order');
  }
  const op = (i: number) => (order[i]!.direction === 'desc' ? '<' : '>');
  const lit = (i: number): Expr => ({ literal: values[i]! });
  const after = (i: number): Condition => {
    const strictly: Condition = { compare: order[i]!.by, op: op(i), to: lit(i) };
    if (i === order.length - 1) return strictly;
    return {
      or: [strictly, { and: [{ compare: order[i]!.by, op: '=', to: lit(i) }, after(i + 1)] }],
    };
  };
  const lead: Condition = { compare: order[0]!.by, op: op(0) === '<' ? '<=' : '>=', to: lit(0) };
  return order.length === 1 ? after(0) : { and: [lead, after(0)] };
}

/**
 * afterCondition as SQL. One direction throughout is a row-value comparison, which both
 * databases turn into one index range.
 */
export function afterClause(
  c: Compiler,
  order: readonly OrderKey[],
  values: readonly Scalar[],
): RawBuilder<SqlBool> {
  const direction = order[0]?.direction;
  if (order.length < 2 || order.some((k) => k.direction !== direction)) {
    return c.condition(afterCondition(order, values));
  }
  if (values.length !== order.length) {
    throw new ListQueryError('a page cursor does not fit this order');
  }
  const keys = sql.join(order.map((k) => c.expr(k.by)));
  const op = sql.raw(direction === 'desc' ? '<' : '>');
  return sql<SqlBool>`(${keys}) ${op} (${sql.join(values.map(bound))})`;
}
