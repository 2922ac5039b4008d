/*
 * Combination expressions (2023-09 §3.4.3): `A * B` is the product of the parameters'
 * values, `(A, B)` their association (element by element, equal lengths), nested freely:
 * `(Foo, Bar * Buz)`. Each task parameter occurs exactly once. The product varies its last
 * factor fastest, as the specification's table lists it.
 */

export type Combination =
  | { kind: 'param'; name: string }
  | { kind: 'product'; parts: Combination[] }
  | { kind: 'association'; parts: Combination[] };

export class CombinationError extends Error {
  override name = 'CombinationError';
}

export const MAX_COMBINATION_LENGTH = 1280;

/** Parses an expression; names are checked against the parameters by the caller. */
export function parseCombination(text: string): Combination {
  if (text.length === 0 || text.length > MAX_COMBINATION_LENGTH) {
    throw new CombinationError(`must be 1 to ${MAX_COMBINATION_LENGTH} characters long`);
  }
  const tokens = text.match(/[A-Za-z_][A-Za-z0-9_]*|[*(),]|\s+|./g) ?? [];
  const list = tokens.filter((t) => !/^\s+$/.test(t));
  let i = 0;
  const peek = () => list[i];
  const fail = (what: string): never => {
    throw new CombinationError(
      `${what} at token ${i + 1}${peek() === undefined ? ' (end of expression)' : ` ("${peek()}")`}`,
    );
  };
  const element = (): Combination => {
    const t = peek();
    if (t === '(') {
      i++;
      const parts = [product()];
      while (peek() === ',') {
        i++;
        parts.push(product());
      }
      if (peek() !== ')') fail('expected "," or ")"');
      i++;
      return parts.length === 1 ? parts[0]! : { kind: 'association', parts };
    }
    if (t !== undefined && /^[A-Za-z_]/.test(t)) {
      i++;
      return { kind: 'param', name: t };
    }
    return fail('expected a task parameter name or "("');
  };
  const product = (): Combination => {
    const parts = [element()];
    while (peek() === '*') {
      i++;
      parts.push(element());
    }
    return parts.length === 1 ? parts[0]! : { kind: 'product', parts };
  };
  const expr = product();
  if (i < list.length) fail('unexpected token');
  return expr;
}

/** Every parameter the expression names, in order, repeats included. */
export function namesOf(c: Combination): string[] {
  return c.kind === 'param' ? [c.name] : c.parts.flatMap(namesOf);
}

/** Names of the parameters that stand inside an association. */
export function associated(c: Combination, inside = false): string[] {
  if (c.kind === 'param') return inside ? [c.name] : [];
  return c.parts.flatMap((p) => associated(p, inside || c.kind === 'association'));
}

/** How many points the expression makes from parameters with that many values each. */
export function countPoints(c: Combination, sizes: ReadonlyMap<string, number>): number {
  if (c.kind === 'param') return sizes.get(c.name) ?? 0;
  const counts = c.parts.map((p) => countPoints(p, sizes));
  if (c.kind === 'product') return counts.reduce((a, b) => a * b, 1);
  if (counts.some((n) => n !== counts[0])) {
    throw new CombinationError(
      `the parts of an association must have the same number of values; ${c.parts
        .map((p, k) => `${namesOf(p).join('*')} has ${counts[k]}`)
        .join(', ')}`,
    );
  }
  return counts[0] ?? 0;
}

export type Point = Record<string, string>;

/** The points, in order; `countPoints` first bounds how many. */
export function expandPoints(c: Combination, values: ReadonlyMap<string, string[]>): Point[] {
  if (c.kind === 'param') return (values.get(c.name) ?? []).map((v) => ({ [c.name]: v }));
  const parts = c.parts.map((p) => expandPoints(p, values));
  if (c.kind === 'association') {
    return parts[0]!.map((_, k) => Object.assign({}, ...parts.map((p) => p[k])) as Point);
  }
  let out: Point[] = [{}];
  for (const part of parts)
    out = out.flatMap((left) => part.map((right) => ({ ...left, ...right })));
  return out;
}
