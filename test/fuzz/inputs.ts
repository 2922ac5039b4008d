import fc from 'fast-check';

/*
 * What the fuzz sends: hostile scalars, hostile JSON shapes and hostile raw bodies, and the
 * near-valid bodies (a valid request of each face with one field changed) that carry the
 * fuzz past the schemas into the engine and the store. Everything is drawn from
 * fast-check arbitraries so that one seed gives one sequence of requests.
 */

/**
 * JSON text written exactly as given: a number as sent (`9223372036854775808`, `1e400`),
 * not as JavaScript prints it, or a 5,000-deep value that JSON.stringify would recurse on.
 */
export class RawJson {
  constructor(readonly text: string) {}
}

/** JSON text of a value that may hold RawJson parts. */
export function jsonText(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  const raws: string[] = [];
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (!(v instanceof RawJson)) return v;
    raws.push(v.text);
    return `\u0001RAW${raws.length - 1}\u0001`;
  });
  if (text === undefined) return 'null';
  return text.replace(/"\\u0001RAW(\d+)\\u0001"/g, (_m, i: string) => raws[Number(i)]!);
}

const HUGE_STRING = 'x'.repeat(100_000);

/** Numbers past every bound a column or a timer has, and the edges just inside them. */
const NUMBERS: unknown[] = [
  0,
  -0,
  1,
  -1,
  0.5,
  -1.5,
  50,
  3e9,
  -3e9,
  1e20,
  -1e20,
  1e308,
  2147483647,
  2147483648,
  -2147483649,
  4294967296,
  Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 2,
  new RawJson('9223372036854775808'),
  new RawJson('-9223372036854775809'),
  new RawJson('99999999999999999999'),
  new RawJson('1e400'),
  new RawJson('-1e400'),
  new RawJson('1e-400'),
  new RawJson('0.1e1'),
];

/** Strings that look like numbers, ids, frames, dates or paths, or break text handling. */
const STRINGS: unknown[] = [
  '',
  ' ',
  '0',
  '1',
  '-1',
  '3e9',
  '3000000000',
  '1e20',
  '9223372036854775808',
  '99999999999999999999',
  'NaN',
  'Infinity',
  '-Infinity',
  'null',
  'true',
  '0x10',
  '1.5',
  '١٢٣',
  '𝟏𝟐',
  '1-20000000',
  '1-1000000',
  '1-10x0',
  '3000000000-3000000001',
  '-2147483649',
  '1,2,3',
  '1--5',
  'a\u0000b',
  '\u0000',
  '\ud800',
  '😀🎬',
  'e\u0301',
  '\u202e',
  '../../../etc/passwd',
  '/etc/passwd',
  '%00',
  '%zz',
  '<script>',
  "' OR 1=1 --",
  '${PWD}',
  '{start}',
  '2026-13-45T99:99:99Z',
  '31/12/2026 25:61',
  '0001-01-01T00:00:00Z',
  '-10675199.02:48:05.4775808',
  'x'.repeat(1000),
  HUGE_STRING,
];

const SHAPES: unknown[] = [null, true, false, [], {}, [null], [1, 'a'], { a: 1 }, { '': '' }];

/** One hostile scalar or small shape. */
export const hostileScalar: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NUMBERS) },
  { weight: 5, arbitrary: fc.constantFrom(...STRINGS) },
  { weight: 2, arbitrary: fc.constantFrom(...SHAPES) },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
);

/** A value nested `depth` deep: `[[[…]]]` or `{"a":{"a":…}}`, as text. */
export function nested(depth: number, object: boolean): RawJson {
  return new RawJson(
    object
      ? '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)
      : '['.repeat(depth) + '1' + ']'.repeat(depth),
  );
}

/** Deep, wide and large JSON values. */
export const hostileShape: fc.Arbitrary<unknown> = fc.oneof(
  fc.tuple(fc.constantFrom(50, 1000, 5000), fc.boolean()).map(([d, o]) => nested(d, o)),
  fc
    .tuple(fc.constantFrom(1000, 40_000), fc.constantFrom<unknown>(1, 'a', null, {}))
    .map(([n, v]) => new Array<unknown>(n).fill(v)),
  fc
    .constantFrom(1000, 20_000)
    .map((n) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]))),
  fc.anything({ maxDepth: 3, maxKeys: 4, withNullPrototype: false }),
);

export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: hostileScalar },
  { weight: 1, arbitrary: hostileShape },
);

/** Raw bodies that are not a JSON value at all. */
export const rawBody: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '{',
    '{"a":',
    '[1,2',
    '}',
    'nul',
    'NaN',
    '{"a":1,}',
    "{'a':1}",
    '{"a":1}{"b":2}',
    '\u0000',
    '\ufeff{}',
    'a=1&b=2',
    '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--',
    '[' + '['.repeat(5000),
    '{"a":'.repeat(5000),
    '"' + 'x'.repeat(200_000) + '"',
  ),
  fc.string({ unit: 'binary', maxLength: 200 }),
);

export const contentType: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 8, arbitrary: fc.constant('application/json') },
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      undefined,
      'application/json; charset=utf-8',
      'application/json; charset=latin1',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/octet-stream',
      'application/data',
      'a/b/c',
      ';;;',
      'application/json, text/plain',
    ),
  },
);

/** A template of a valid body: each leaf may be replaced, removed or joined by an unknown key. */
export type Template = Record<string, unknown>;

type Path = (string | number)[];

function leafPaths(value: unknown, prefix: Path = []): Path[] {
  if (value === null || typeof value !== 'object') return [prefix];
  const entries = Array.isArray(value)
    ? value.map((v, i) => [i, v] as const)
    : Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return [prefix];
  const paths: Path[] = prefix.length > 0 ? [prefix] : [];
  for (const [k, v] of entries) paths.push(...leafPaths(v, [...prefix, k]));
  return paths;
}

function setAt(root: unknown, path: Path, value: unknown, remove: boolean): unknown {
  const copy = structuredClone(root);
  if (path.length === 0) return value;
  let node = copy as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (remove) {
    if (Array.isArray(node)) node.splice(Number(last), 1);
    else delete node[last];
  } else node[last] = value;
  return copy;
}

/** A valid body with one of its fields (at any depth) replaced, removed, or one key added. */
export function nearValid(templates: readonly Template[]): fc.Arbitrary<unknown> {
  return fc.constantFrom(...templates).chain((template) => {
    const paths = leafPaths(template);
    return fc.oneof(
      { weight: 1, arbitrary: fc.constant(template) },
      {
        weight: 6,
        arbitrary: fc
          .tuple(fc.constantFrom(...paths), hostileValue)
          .map(([path, value]) => setAt(template, path, value, false)),
      },
      {
        weight: 1,
        arbitrary: fc
          .constantFrom(...paths)
          .map((path) => (path.length === 0 ? template : setAt(template, path, undefined, true))),
      },
      {
        weight: 1,
        arbitrary: fc
          .tuple(fc.constantFrom('extra', '__proto__', 'constructor', ''), hostileValue)
          .map(([key, value]) => ({ ...template, [key]: value })),
      },
    );
  });
}
