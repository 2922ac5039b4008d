import type { Condition, Expr, OrderKey } from '../../store/list-query/index.js';

/*
 * UFDL's FilterSpec conditions (parsed by filter-spec.ts) as the store's filter tree. Each
 * UFDL list that filters in the database names its fields as expressions over the store's
 * fields (a column catalogue); the conditions and orderings the API parsed refer to those
 * names only, so no text from a request reaches the SQL.
 */

export type UfdlColumnKind = 'int' | 'text' | 'time' | 'bool';

export type UfdlColumns = Record<string, { expr: Expr; kind: UfdlColumnKind }>;

/** A condition on catalogue columns, as UFDL's FilterSpec expresses it. */
export type UfdlCondition =
  | {
      type: 'exact';
      column: string;
      value: string | number | boolean;
      caseInsensitive?: boolean;
      invert?: boolean;
    }
  | {
      type: 'contains';
      column: string;
      subString: string;
      caseInsensitive?: boolean;
      invert?: boolean;
    }
  | { type: 'isnull'; column: string; invert?: boolean }
  | {
      type: 'compare';
      column: string;
      operator: '<' | '>' | '<=' | '>=';
      value: string | number;
      invert?: boolean;
    }
  | { type: 'and' | 'or'; items: UfdlCondition[]; invert?: boolean };

export interface UfdlOrder {
  column: string;
  ascending: boolean;
  nullsFirst?: boolean;
}

function columnOf(columns: UfdlColumns, column: string) {
  const c = columns[column];
  if (!c) throw new Error(`unknown UFDL column ${column}`);
  return c;
}

export function ufdlConditionTree(columns: UfdlColumns, c: UfdlCondition): Condition {
  let inner: Condition;
  switch (c.type) {
    case 'and':
      inner = { and: c.items.map((item) => ufdlConditionTree(columns, item)) };
      break;
    case 'or':
      inner = { or: c.items.map((item) => ufdlConditionTree(columns, item)) };
      break;
    case 'isnull':
      inner = { isNull: columnOf(columns, c.column).expr };
      break;
    case 'exact': {
      const { expr, kind } = columnOf(columns, c.column);
      if (kind === 'text' || typeof c.value === 'string') {
        const left: Expr = kind === 'text' ? expr : { text: expr };
        inner = c.caseInsensitive
          ? {
              compare: { lower: left },
              op: '=',
              to: { lower: { text: { literal: String(c.value) } } },
            }
          : { compare: left, op: '=', to: { literal: String(c.value) } };
      } else {
        const value = typeof c.value === 'boolean' ? (c.value ? 1 : 0) : c.value;
        inner = { compare: expr, op: '=', to: { literal: value } };
      }
      break;
    }
    case 'contains': {
      const { expr, kind } = columnOf(columns, c.column);
      const text: Expr = kind === 'text' ? expr : { text: expr };
      const needle: Expr = { text: { literal: c.subString } };
      inner = c.caseInsensitive
        ? { contains: { lower: text }, needle: { lower: needle } }
        : { contains: text, needle };
      break;
    }
    case 'compare':
      inner = {
        compare: columnOf(columns, c.column).expr,
        op: c.operator,
        to: { literal: c.value },
      };
      break;
  }
  // UFDL inverts with Django's exclude(), where a NULL field never matches the inner filter.
  return c.invert ? { not: inner } : inner;
}

export function ufdlOrderKey(columns: UfdlColumns, o: UfdlOrder): OrderKey {
  return {
    by: columnOf(columns, o.column).expr,
    direction: o.ascending ? 'asc' : 'desc',
    ...(o.nullsFirst === undefined ? {} : { nulls: o.nullsFirst ? 'first' : 'last' }),
  };
}
