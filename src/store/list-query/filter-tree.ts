/*
 * The one list query the store offers every face: a typed filter tree (conditions on
 * fields, with and/or/not), an order and a page, over one resource (list-fields.ts names
 * each resource's fields). A face translates its own filter language into this tree inside
 * its own folder; compile.ts turns the tree into SQL for both databases. The tree is checked
 * before it is compiled: a request cannot make a statement deeper or wider than the
 * databases accept (SQLite stops at an expression depth of 1,000 and 32,766 bound values).
 */

export type Scalar = string | number | boolean | null;

/** A value: a field, a literal, or a small computation over them. */
export type Expr<F extends string = string> =
  | { field: F }
  /** `type` casts the value (PostgreSQL cannot type a bare parameter where no column says). */
  | { literal: Scalar; type?: 'int' | 'text' }
  | { case: { when: Condition<F>; then: Expr<F> }[]; else?: Expr<F> }
  | { coalesce: Expr<F>[] }
  /** The text form of a value (cast as text). */
  | { text: Expr<F> }
  | { lower: Expr<F> }
  | { minus: [Expr<F>, Expr<F>] };

export type CompareOp = '=' | '<>' | '<' | '<=' | '>' | '>=';

export type Condition<F extends string = string> =
  | { compare: Expr<F>; op: CompareOp; to: Expr<F> }
  /** An empty list matches nothing. */
  | { in: Expr<F>; values: readonly Scalar[] }
  | { isNull: Expr<F> }
  /** A substring, taken literally (no wildcards), case as given. */
  | { contains: Expr<F>; needle: Expr<F> }
  /**
   * A substring of a text field, case folded (lower() of the database), % and _ literal:
   * the search box of a list, served by the field's text index.
   */
  | { search: F; text: string }
  /** A boolean field (a fact such as "a job it depends on failed"). */
  | { holds: F }
  /** A membership field: the row has a related row whose value is one of `values`. */
  | { has: F; values: readonly Scalar[] }
  | { and: Condition<F>[] }
  | { or: Condition<F>[] }
  /** Holds where the inner condition does not, a null (unknown) inner included. */
  | { not: Condition<F> }
  | { never: true };

export interface OrderKey<F extends string = string> {
  by: Expr<F>;
  direction: 'asc' | 'desc';
  /** Where nulls go; the database's default (SQLite first, PostgreSQL last) when absent. */
  nulls?: 'first' | 'last';
}

export interface ListQuery<F extends string = string> {
  where?: Condition<F>;
  order?: OrderKey<F>[];
  /** The id always breaks ties last, in this direction (default asc). */
  tieBreak?: 'asc' | 'desc';
  /** Named values to read; without it, the resource's own row. */
  select?: Record<string, Expr<F>>;
  /** Without limit every match is read (bulk commands walk ids). */
  page?: { limit: number; offset?: number; after?: readonly Scalar[] };
  /**
   * Also count every match; `capped` counts exactly only up to a limit and estimates above
   * (capped-count.ts), for lists so large that an exact count would cost more than the page.
   */
  count?: boolean | 'capped';
}

/** A query the store refuses: its message says which bound was passed. */
export class ListQueryError extends Error {}

export const LIST_QUERY_BOUNDS = {
  /** Nodes of conditions and values in one query, order and selection included. */
  nodes: 2_000,
  /** Nesting of conditions and values. */
  depth: 32,
  /** Values of one `in` or `has`, and branches of one `and`/`or`/`case`/`coalesce`. */
  width: 1_000,
  orderKeys: 24,
} as const;

/** Checks the bounds, walking no more of the tree than the bounds allow. */
export function checkListQuery(q: ListQuery): void {
  let nodes = 0;
  const count = (n = 1) => {
    nodes += n;
    if (nodes > LIST_QUERY_BOUNDS.nodes) {
      throw new ListQueryError(
        `a list query may hold at most ${LIST_QUERY_BOUNDS.nodes} conditions and values`,
      );
    }
  };
  const wide = (items: readonly unknown[], what: string) => {
    if (items.length > LIST_QUERY_BOUNDS.width) {
      throw new ListQueryError(`${what} may hold at most ${LIST_QUERY_BOUNDS.width} items`);
    }
  };
  const deep = (depth: number) => {
    if (depth > LIST_QUERY_BOUNDS.depth) {
      throw new ListQueryError(`a list query may nest at most ${LIST_QUERY_BOUNDS.depth} deep`);
    }
  };
  const expr = (e: Expr, depth: number): void => {
    deep(depth);
    count();
    if ('case' in e) {
      wide(e.case, 'a case');
      for (const branch of e.case) {
        condition(branch.when, depth + 1);
        expr(branch.then, depth + 1);
      }
      if (e.else) expr(e.else, depth + 1);
    } else if ('coalesce' in e) {
      wide(e.coalesce, 'a coalesce');
      for (const item of e.coalesce) expr(item, depth + 1);
    } else if ('text' in e) expr(e.text, depth + 1);
    else if ('lower' in e) expr(e.lower, depth + 1);
    else if ('minus' in e) for (const item of e.minus) expr(item, depth + 1);
  };
  const condition = (c: Condition, depth: number): void => {
    deep(depth);
    count();
    if ('and' in c || 'or' in c) {
      const items = 'and' in c ? c.and : c.or;
      wide(items, `an ${'and' in c ? 'and' : 'or'}`);
      for (const item of items) condition(item, depth + 1);
    } else if ('not' in c) condition(c.not, depth + 1);
    else if ('compare' in c) {
      expr(c.compare, depth + 1);
      expr(c.to, depth + 1);
    } else if ('in' in c) {
      wide(c.values, 'an in list');
      count(c.values.length);
      expr(c.in, depth + 1);
    } else if ('has' in c) {
      wide(c.values, 'a has list');
      count(c.values.length);
    } else if ('isNull' in c) expr(c.isNull, depth + 1);
    else if ('contains' in c) {
      expr(c.contains, depth + 1);
      expr(c.needle, depth + 1);
    }
  };
  if (q.where) condition(q.where, 1);
  if (q.order) {
    if (q.order.length > LIST_QUERY_BOUNDS.orderKeys) {
      throw new ListQueryError(
        `a list may be ordered by at most ${LIST_QUERY_BOUNDS.orderKeys} keys`,
      );
    }
    for (const key of q.order) expr(key.by, 1);
  }
  if (q.select) for (const e of Object.values(q.select)) expr(e, 1);
  const page = q.page;
  if (page) {
    if (!Number.isSafeInteger(page.limit) || page.limit < 0) {
      throw new ListQueryError('a page limit must be a whole number, 0 or more');
    }
    if (page.offset !== undefined && (!Number.isSafeInteger(page.offset) || page.offset < 0)) {
      throw new ListQueryError('a page offset must be a whole number, 0 or more');
    }
  }
}
