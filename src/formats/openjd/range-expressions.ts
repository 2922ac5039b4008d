/*
 * OpenJD's integer range expressions (2023-09 §3.4.1.1.1): `1-100`, `1-100:5`, `10-1:-2`,
 * `50, 60-100:5, 1-10`. The elements are combined into one list in increasing order, and
 * no two elements may overlap: the spec refuses `1-10:4,10-15` although the values 1, 5, 9
 * never meet 10-15, so overlap is of the elements' spans as written, not of their values.
 */

export class RangeExprError extends Error {
  override name = 'RangeExprError';
}

interface Element {
  /** Lowest and highest value the element yields. */
  low: number;
  high: number;
  start: number;
  step: number;
  count: number;
  text: string;
}

const INT = /^[+-]?\d+$/;
// `<Int> <WS>* - <WS>* <Int>` with an optional `:<Skip>`; the second int may be negative.
const RANGE = /^([+-]?\d+)[ \t]*-[ \t]*([+-]?\d+)(?:[ \t]*:[ \t]*([+-]?\d+))?$/;

function int(text: string, whole: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) {
    throw new RangeExprError(`"${whole}": ${text} is outside the integers that can be held`);
  }
  return value;
}

function element(raw: string): Element {
  const text = raw.replace(/^[ \t]+|[ \t]+$/g, '');
  if (text === '') throw new RangeExprError('empty element in range expression');
  if (INT.test(text)) {
    const v = int(text, text);
    return { low: v, high: v, start: v, step: 1, count: 1, text };
  }
  const m = RANGE.exec(text);
  if (!m) {
    throw new RangeExprError(
      `"${text}" is not an integer, a range "a-b" or a range with a step "a-b:n"`,
    );
  }
  const start = int(m[1]!, text);
  const end = int(m[2]!, text);
  const step = m[3] === undefined ? 1 : int(m[3], text);
  if (step === 0) throw new RangeExprError(`"${text}": the step must not be zero`);
  // {x} ∪ {x + m·n : m > 0, x + m·n ≤ y} for n > 0, and ≥ y for n < 0.
  const span = step > 0 ? end - start : start - end;
  const count = span < 0 ? 1 : Math.floor(span / Math.abs(step)) + 1;
  // The span as written, not the last value made: the spec refuses `1-10:4,10-15`.
  return {
    low: Math.min(start, end),
    high: Math.max(start, end),
    start,
    step,
    count,
    text,
  };
}

function elements(expr: string): Element[] {
  if (expr.trim() === '') throw new RangeExprError('a range expression must not be empty');
  const parts = expr.split(',').map(element);
  const sorted = [...parts].sort((a, b) => a.low - b.low);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.low <= sorted[i - 1]!.high) {
      throw new RangeExprError(
        `"${sorted[i - 1]!.text}" and "${sorted[i]!.text}" overlap; ranges in one expression must not overlap`,
      );
    }
  }
  return sorted;
}

/** How many values the expression holds, without making them. */
export function countRangeExpr(expr: string): number {
  return elements(expr).reduce((n, e) => n + e.count, 0);
}

/** The expression's values in increasing order; refuses more than `max` values. */
export function parseRangeExpr(expr: string, max: number): number[] {
  const parts = elements(expr);
  const total = parts.reduce((n, e) => n + e.count, 0);
  if (total > max) {
    throw new RangeExprError(`"${expr}" holds ${total} values; at most ${max} are allowed`);
  }
  const out: number[] = [];
  for (const e of parts) {
    const values: number[] = [];
    for (let i = 0; i < e.count; i++) values.push(e.start + i * e.step);
    if (e.step < 0) values.reverse();
    out.push(...values);
  }
  return out;
}

/** Writes a sorted list of integers back as a range expression: `1-3,7,9-10`. */
export function formatRangeExpr(values: readonly number[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < values.length) {
    let j = i;
    while (j + 1 < values.length && values[j + 1] === values[j]! + 1) j++;
    parts.push(j === i ? `${values[i]}` : `${values[i]}-${values[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}
