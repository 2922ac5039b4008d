import { UfdlError } from './errors.js';
import type { UfdlColumnKind, UfdlCondition, UfdlOrder } from './filter-tree.js';

/*
 * UFDL's FilterSpec (ufdl-json-messages core/filter): an optional body of the list actions,
 * strict at every level. Expressions are ANDed; each may be inverted; `and` and `or` nest;
 * `include_inactive` adds soft-deleted rows. Field names are Django paths with `.` (or
 * `__`) between relations; each list names the fields it knows and how to read them.
 */

export interface FilterSpec {
  conditions: UfdlCondition[];
  order: UfdlOrder[];
  includeInactive: boolean;
}

export interface FieldCatalog {
  /** UFDL field path (dots) → column name and kind. */
  [field: string]: { column: string; kind: UfdlColumnKind };
}

const SCHEMA_SUMMARY = {
  type: 'object',
  additionalProperties: false,
  properties: {
    expressions: { type: 'array', items: { $ref: '#/definitions/Expression' } },
    order_by: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['field'],
        properties: {
          field: { type: 'string' },
          ascending: { type: 'boolean' },
          nulls_first: { type: 'boolean' },
        },
      },
    },
    include_inactive: { type: 'boolean' },
  },
  definitions: {
    Expression: {
      oneOf: [
        { type: 'exact', required: ['field', 'value'], optional: ['case_insensitive', 'invert'] },
        {
          type: 'contains',
          required: ['field', 'sub_string'],
          optional: ['case_insensitive', 'invert'],
        },
        { type: 'isnull', required: ['field'], optional: ['invert'] },
        { type: 'compare', required: ['field', 'operator', 'value'], optional: ['invert'] },
        { type: 'and', required: ['sub_expressions'], optional: ['invert'] },
        { type: 'or', required: ['sub_expressions'], optional: ['invert'] },
      ],
    },
  },
};

class SpecError extends Error {}

function fail(reason: string): never {
  throw new SpecError(reason);
}

function object(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(`${where} must be an object`);
  }
  return value as Record<string, unknown>;
}

function only(o: Record<string, unknown>, allowed: string[], where: string): void {
  for (const key of Object.keys(o)) {
    if (!allowed.includes(key))
      fail(`Additional properties are not allowed ('${key}' was unexpected) in ${where}`);
  }
}

function bool(o: Record<string, unknown>, key: string, where: string): boolean | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') fail(`${where}.${key} must be a boolean`);
  return v;
}

function str(o: Record<string, unknown>, key: string, where: string): string {
  const v = o[key];
  if (typeof v !== 'string') fail(`${where}.${key} is a required string`);
  return v;
}

export function fieldOf(catalog: FieldCatalog, field: string) {
  const path = field.replace(/__/g, '.');
  const found = catalog[path];
  if (!found) {
    throw new UfdlError(
      400,
      `Cannot resolve keyword '${field}' into field. Choices are: ${Object.keys(catalog).join(', ')}`,
    );
  }
  return found;
}

function timeValue(value: unknown, where: string): number {
  if (typeof value === 'number') return value;
  const ms = typeof value === 'string' ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) fail(`${where}.value must be an ISO 8601 date-time`);
  return ms;
}

function expression(
  catalog: FieldCatalog,
  value: unknown,
  where: string,
  nested: 0 | 1 | 2,
): UfdlCondition {
  const o = object(value, where);
  const type = o.type;
  const invert = bool(o, 'invert', where);
  const inv = invert === undefined ? {} : { invert };
  switch (type) {
    case 'exact': {
      only(o, ['type', 'field', 'value', 'case_insensitive', 'invert'], where);
      const field = fieldOf(catalog, str(o, 'field', where));
      const raw = o.value;
      if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') {
        fail(`${where}.value must be a string, number or boolean`);
      }
      let v: string | number | boolean = raw;
      if (field.kind === 'time') v = timeValue(v, where);
      const ci = bool(o, 'case_insensitive', where);
      return {
        type: 'exact',
        column: field.column,
        value: v,
        ...(ci !== undefined ? { caseInsensitive: ci } : {}),
        ...inv,
      };
    }
    case 'contains': {
      only(o, ['type', 'field', 'sub_string', 'case_insensitive', 'invert'], where);
      const field = fieldOf(catalog, str(o, 'field', where));
      const sub = str(o, 'sub_string', where);
      if (sub.length < 1) fail(`${where}.sub_string is too short (minLength 1)`);
      const ci = bool(o, 'case_insensitive', where);
      return {
        type: 'contains',
        column: field.column,
        subString: sub,
        ...(ci !== undefined ? { caseInsensitive: ci } : {}),
        ...inv,
      };
    }
    case 'isnull': {
      only(o, ['type', 'field', 'invert'], where);
      return { type: 'isnull', column: fieldOf(catalog, str(o, 'field', where)).column, ...inv };
    }
    case 'compare': {
      only(o, ['type', 'field', 'operator', 'value', 'invert'], where);
      const field = fieldOf(catalog, str(o, 'field', where));
      const operator = o.operator;
      if (operator !== '<' && operator !== '>' && operator !== '<=' && operator !== '>=') {
        fail(`${where}.operator must be one of <, >, <=, >=`);
      }
      const raw = o.value;
      if (typeof raw !== 'string' && typeof raw !== 'number')
        fail(`${where}.value must be a string or number`);
      let v: string | number = raw;
      if (field.kind === 'time') v = timeValue(v, where);
      return { type: 'compare', column: field.column, operator, value: v, ...inv };
    }
    case 'and':
    case 'or': {
      if (type === 'and' && nested === 2) fail(`${where}: 'and' may not be nested in 'and'`);
      if (type === 'or' && nested !== 0) fail(`${where}: 'or' may only appear at the top level`);
      only(o, ['type', 'sub_expressions', 'invert'], where);
      const subs = o.sub_expressions;
      if (!Array.isArray(subs) || subs.length < 2) {
        fail(`${where}.sub_expressions must be an array of at least 2 expressions`);
      }
      const items = subs.map((s, i) =>
        expression(catalog, s, `${where}.sub_expressions[${i}]`, type === 'and' ? 2 : 1),
      );
      return { type, items, ...inv };
    }
    default:
      fail(`${where}.type must be one of exact, contains, isnull, compare, and, or`);
  }
}

/**
 * Expressions one filter may hold, counting those inside `and` and `or`. A 40,000-wide `or`
 * passed SQLite's 32,766 bound variables, and a chain of `or`s is an expression tree as
 * deep as it is long, where SQLite stops at a depth of 1,000 (999 was a 500 on SQLite):
 * 200 leaves room for the rest of the query. Nesting is bounded by the grammar already.
 */
export const MAX_FILTER_EXPRESSIONS = 200;
export const MAX_FILTER_ORDER = 20;

/** Expressions in a filter, counted before any is read; over the limit fails. */
function countExpressions(expressions: unknown[]): void {
  const tooMany = () =>
    fail(`a filter may hold at most ${MAX_FILTER_EXPRESSIONS} expressions, nested ones included`);
  if (expressions.length > MAX_FILTER_EXPRESSIONS) tooMany();
  let read = 0;
  const stack: unknown[] = [...expressions];
  while (stack.length > 0) {
    const subs = (stack.pop() as { sub_expressions?: unknown } | null)?.sub_expressions;
    read++;
    // read + stack.length never exceeds the total, so nothing over the limit is walked.
    if (Array.isArray(subs)) {
      if (read + stack.length + subs.length > MAX_FILTER_EXPRESSIONS) tooMany();
      stack.push(...subs);
    }
  }
}

/** Parses an optional FilterSpec body; a body that breaks the schema is 400 json_parse_failure. */
export function parseFilterSpec(catalog: FieldCatalog, body: unknown): FilterSpec {
  const spec: FilterSpec = { conditions: [], order: [], includeInactive: false };
  if (body === undefined || body === null || body === '') return spec;
  try {
    const o = object(body, 'FilterSpec');
    only(o, ['expressions', 'order_by', 'include_inactive'], 'FilterSpec');
    if (o.expressions !== undefined) {
      if (!Array.isArray(o.expressions)) fail('expressions must be an array');
      countExpressions(o.expressions);
      spec.conditions = o.expressions.map((e, i) => expression(catalog, e, `expressions[${i}]`, 0));
    }
    if (o.order_by !== undefined) {
      if (!Array.isArray(o.order_by)) fail('order_by must be an array');
      if (o.order_by.length > MAX_FILTER_ORDER) {
        fail(`order_by may name at most ${MAX_FILTER_ORDER} fields`);
      }
      spec.order = o.order_by.map((item, i) => {
        const where = `order_by[${i}]`;
        const b = object(item, where);
        only(b, ['field', 'ascending', 'nulls_first'], where);
        const field = fieldOf(catalog, str(b, 'field', where));
        const nullsFirst = bool(b, 'nulls_first', where);
        return {
          column: field.column,
          ascending: bool(b, 'ascending', where) ?? true,
          ...(nullsFirst !== undefined ? { nullsFirst } : {}),
        };
      });
    }
    spec.includeInactive = bool(o, 'include_inactive', 'FilterSpec') ?? false;
    return spec;
  } catch (error) {
    if (error instanceof SpecError) {
      throw new UfdlError(
        400,
        `Unable to parse JSON: ${error.message}\n\n${echo(body)}\n\nSchema:\n${JSON.stringify(SCHEMA_SUMMARY, null, 2)}`,
      );
    }
    throw error;
  }
}

/**
 * Evaluates conditions over plain objects (nodes and templates are few: they are filtered
 * after reading, jobs in SQL). Columns are keys of the object.
 */
export function matches(row: Record<string, unknown>, c: UfdlCondition): boolean {
  const result = ((): boolean => {
    switch (c.type) {
      case 'and':
        return c.items.every((i) => matches(row, i));
      case 'or':
        return c.items.some((i) => matches(row, i));
      case 'isnull':
        return row[c.column] === null || row[c.column] === undefined;
      case 'exact': {
        const v = row[c.column];
        if (v === null || v === undefined) return false;
        if (typeof c.value === 'string' || typeof v === 'string') {
          const [a, b] = [String(v), String(c.value)];
          return c.caseInsensitive ? a.toLowerCase() === b.toLowerCase() : a === b;
        }
        return Number(v) === Number(c.value);
      }
      case 'contains': {
        const v = row[c.column];
        if (v === null || v === undefined) return false;
        return c.caseInsensitive
          ? String(v).toLowerCase().includes(c.subString.toLowerCase())
          : String(v).includes(c.subString);
      }
      case 'compare': {
        const v = row[c.column];
        if (v === null || v === undefined) return false;
        const [a, b] = typeof c.value === 'number' ? [Number(v), c.value] : [String(v), c.value];
        return c.operator === '<'
          ? a < b
          : c.operator === '>'
            ? a > b
            : c.operator === '<='
              ? a <= b
              : a >= b;
      }
    }
  })();
  return c.invert ? !result : result;
}

export function compareRows(order: readonly UfdlOrder[]) {
  return (x: Record<string, unknown>, y: Record<string, unknown>): number => {
    for (const o of order) {
      const [a, b] = [x[o.column], y[o.column]];
      if (a === b) continue;
      const nullsFirst = o.nullsFirst ?? !o.ascending;
      if (a === null || a === undefined) return nullsFirst ? -1 : 1;
      if (b === null || b === undefined) return nullsFirst ? 1 : -1;
      const cmp = (a as number) < (b as number) ? -1 : 1;
      return o.ascending ? cmp : -cmp;
    }
    return 0;
  };
}

export const JOB_FIELDS: FieldCatalog = {
  pk: { column: 'pk', kind: 'int' },
  template: { column: 'template', kind: 'int' },
  'template.pk': { column: 'template', kind: 'int' },
  'template.name': { column: 'template_name', kind: 'text' },
  'template.version': { column: 'template_version', kind: 'text' },
  'template.description': { column: 'template_description', kind: 'text' },
  'template.workabletemplate': { column: 'workable_template', kind: 'int' },
  'template.workabletemplate.pk': { column: 'workable_template', kind: 'int' },
  parent: { column: 'parent', kind: 'int' },
  start_time: { column: 'start_time', kind: 'time' },
  end_time: { column: 'end_time', kind: 'time' },
  error_reason: { column: 'error_reason', kind: 'text' },
  node: { column: 'node', kind: 'int' },
  'node.pk': { column: 'node', kind: 'int' },
  description: { column: 'description', kind: 'text' },
  is_cancelled: { column: 'is_cancelled', kind: 'bool' },
  creator: { column: 'creator', kind: 'int' },
  'creator.pk': { column: 'creator', kind: 'int' },
  'creator.username': { column: 'creator_username', kind: 'text' },
  creation_time: { column: 'creation_time', kind: 'time' },
  deletion_time: { column: 'deletion_time', kind: 'time' },
};

/** The body as UFDL echoes it; one too deep to write back is summarised instead. */
function echo(body: unknown): string {
  try {
    return JSON.stringify(body);
  } catch {
    return '(the body is nested too deep to show)';
  }
}
