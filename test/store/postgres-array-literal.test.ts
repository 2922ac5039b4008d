import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { arrayAsLiteral } from '../../src/store/postgres-prepared-statements.js';
import { TEST_DATABASES } from '../helpers/databases.js';

const postgres = TEST_DATABASES.find((d) => d.name === 'postgres');

/** Arrays as the store passes them, with every element kind the literal writes itself. */
const CASES: { cast: string; value: unknown[] }[] = [
  { cast: 'bigint[]', value: [1, 2, 9007199254740991, -5, 0] },
  { cast: 'bigint[]', value: [] },
  { cast: 'int[]', value: [3, null, undefined, 7] },
  { cast: 'double precision[]', value: [0.1, 1e21, -2.5e-7, 1 / 3, Number.NaN, -0] },
  { cast: 'boolean[]', value: [true, false, null] },
  {
    cast: 'text[]',
    value: [
      'plain',
      '',
      'NULL',
      'a,b',
      '{x}',
      'say "hi"',
      'back\\slash',
      'both \\"',
      ' pad ',
      'é ✓',
    ],
  },
];

describe('array parameters written as literals', () => {
  it('leaves what it does not write to pg', () => {
    const date = new Date(0);
    for (const value of [[[1, 2]], [Buffer.from('x')], [date], [{ a: 1 }], [1n]]) {
      assert.equal(arrayAsLiteral(value), value);
    }
    assert.equal(arrayAsLiteral('text'), 'text');
    assert.equal(arrayAsLiteral(null), null);
    assert.equal(arrayAsLiteral([1, null, 'a"b']), '{1,NULL,"a\\"b"}');
  });

  it(
    'reads back in PostgreSQL as pg’s own writing does',
    { skip: !postgres && 'DROVER_TEST_PG is not set' },
    async () => {
      const client = new pg.Client({ connectionString: process.env.DROVER_TEST_PG });
      await client.connect();
      try {
        for (const { cast, value } of CASES) {
          const read = async (param: unknown) =>
            (
              await client.query<{ v: unknown }>(`select cast(cast($1 as ${cast}) as text) as v`, [
                param,
              ])
            ).rows[0]!.v;
          const ours = arrayAsLiteral(value);
          assert.equal(typeof ours, 'string', `${cast} ${JSON.stringify(value)}`);
          assert.equal(await read(ours), await read(value), `${cast} ${JSON.stringify(value)}`);
        }
      } finally {
        await client.end();
      }
    },
  );
});
