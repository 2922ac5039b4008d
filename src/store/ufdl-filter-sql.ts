import { sql, type RawBuilder, type SqlBool } from 'kysely';
import type { DialectName } from './database.js';

/*
 * UFDL's FilterSpec conditions as SQL. Each UFDL list that filters in the database names
 * its fields as SQL expressions (a column catalogue); the conditions and orderings the API
 * parsed refer to those names only, so no text from a request reaches the SQL.
 */

export type UfdlColumnKind = 'int' | 'text' | 'time' | 'bool';

export type UfdlColumns = Record<string, { expr: RawBuilder<unknown>; kind: UfdlColumnKind }>;

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

export function ufdlConditionSql(
  dialect: DialectName,
  columns: UfdlColumns,
  c: UfdlCondition,
): RawBuilder<SqlBool> {
  let inner: RawBuilder<SqlBool>;
  switch (c.type) {
    case 'and':
    case 'or': {
      const parts = c.items.map((item) => ufdlConditionSql(dialect, columns, item));
      inner = sql<SqlBool>`(${sql.join(parts, c.type === 'and' ? sql` and ` : sql` or `)})`;
      break;
    }
    case 'isnull':
      inner = sql<SqlBool>`(${columnOf(columns, c.column).expr}) is null`;
      break;
    case 'exact': {
      const { expr, kind } = columnOf(columns, c.column);
      if (kind === 'text' || typeof c.value === 'string') {
        const left = kind === 'text' ? expr : sql`cast(${expr} as text)`;
        inner = c.caseInsensitive
          ? sql<SqlBool>`lower(${left}) = lower(cast(${String(c.value)} as text))`
          : sql<SqlBool>`${left} = ${String(c.value)}`;
      } else {
        inner = sql<SqlBool>`${expr} = ${typeof c.value === 'boolean' ? (c.value ? 1 : 0) : c.value}`;
      }
      break;
    }
    case 'contains': {
      const { expr, kind } = columnOf(columns, c.column);
      const text = kind === 'text' ? expr : sql`cast(${expr} as text)`;
      const [hay, needle] = c.caseInsensitive
        ? [sql`lower(${text})`, sql`lower(cast(${c.subString} as text))`]
        : [text, sql`cast(${c.subString} as text)`];
      // LIKE ignores case in SQLite and treats % and _ as wildcards; a substring search does neither.
      inner =
        dialect === 'postgres'
          ? sql<SqlBool>`strpos(${hay}, ${needle}) > 0`
          : sql<SqlBool>`instr(${hay}, ${needle}) > 0`;
      break;
    }
    case 'compare': {
      const { expr } = columnOf(columns, c.column);
      inner = sql<SqlBool>`${expr} ${sql.raw(c.operator)} ${c.value}`;
      break;
    }
  }
  // UFDL inverts with Django's exclude(), where a NULL field never matches the inner filter.
  return c.invert ? sql<SqlBool>`not coalesce(${inner}, false)` : inner;
}

export function ufdlOrderSql(columns: UfdlColumns, o: UfdlOrder): RawBuilder<unknown> {
  const nulls =
    o.nullsFirst === undefined ? sql`` : o.nullsFirst ? sql` nulls first` : sql` nulls last`;
  return sql`${columnOf(columns, o.column).expr} ${o.ascending ? sql`asc` : sql`desc`}${nulls}`;
}
