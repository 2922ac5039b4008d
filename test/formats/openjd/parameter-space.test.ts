import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCombination } from '../../../src/formats/openjd/combination.js';
import {
  parseFormatString,
  resolveFormatString,
} from '../../../src/formats/openjd/format-strings.js';
import {
  chunkValues,
  expandParameterSpace,
  SpaceError,
  type ParameterSpace,
} from '../../../src/formats/openjd/parameter-space.js';
import {
  countRangeExpr,
  formatRangeExpr,
  parseRangeExpr,
  RangeExprError,
} from '../../../src/formats/openjd/range-expressions.js';

const seq = (a: number, b: number, step = 1) => {
  const out: number[] = [];
  for (let v = a; v <= b; v += step) out.push(v);
  return out;
};

describe('OpenJD range expressions', () => {
  // The specification's own table (2023-09 §3.4.1.1.1) and the showcase sample's comments.
  const cases: Array<[string, number[]]> = [
    ['1 - 5', [1, 2, 3, 4, 5]],
    ['1 - -1', [1]],
    ['-1 - 1', [-1, 0, 1]],
    ['1-5:2', [1, 3, 5]],
    ['10-15:2,1-5', [1, 2, 3, 4, 5, 10, 12, 14]],
    ['1-10:4', [1, 5, 9]],
    ['1-100:10', seq(1, 91, 10)],
    ['50, 60-100:5, 1-10', [...seq(1, 10), 50, ...seq(60, 100, 5)]],
    ['10-1:-3', [1, 4, 7, 10]],
    ['7', [7]],
  ];
  for (const [expr, values] of cases) {
    it(`"${expr}"`, () => {
      assert.deepEqual(parseRangeExpr(expr, 1000), values);
      assert.equal(countRangeExpr(expr), values.length);
    });
  }

  it('refuses overlapping ranges, a zero step, garbage and too many values', () => {
    assert.throws(() => parseRangeExpr('1-10:4,10-15', 100), /overlap/);
    assert.throws(() => parseRangeExpr('1-3,3', 100), /overlap/);
    assert.throws(() => parseRangeExpr('1-10:0', 100), /step must not be zero/);
    assert.throws(() => parseRangeExpr('1..10', 100), RangeExprError);
    assert.throws(() => parseRangeExpr('', 100), /must not be empty/);
    assert.throws(() => parseRangeExpr('1,,2', 100), /empty element/);
    assert.throws(() => parseRangeExpr('1-99999999999999999999', 100), /outside the integers/);
    assert.throws(() => parseRangeExpr('1-1000000000', 1000), /1000000000 values; at most 1000/);
    // Counting never makes the values.
    assert.equal(countRangeExpr('1-1000000000'), 1_000_000_000);
  });

  it('writes sorted values back as an expression', () => {
    assert.equal(formatRangeExpr([1, 2, 3, 7, 9, 10]), '1-3,7,9-10');
    assert.equal(formatRangeExpr([4]), '4');
  });
});

describe('OpenJD format strings', () => {
  it('splits text and references, with spaces inside the braces', () => {
    assert.deepEqual(parseFormatString('a {{ Param.X }}-{{Task.Param.Frame}}'), [
      { text: 'a ' },
      { ref: 'Param.X' },
      { text: '-' },
      { ref: 'Task.Param.Frame' },
    ]);
  });
  it('resolves without scanning the values again', () => {
    const symbols = new Map([['Param.X', '{{Param.Y}}']]);
    assert.equal(resolveFormatString('<{{Param.X}}>', symbols), '<{{Param.Y}}>');
  });
  it('refuses an unclosed or non-reference interpolation', () => {
    assert.throws(() => parseFormatString('{{Param.X'), /never closed/);
    assert.throws(() => parseFormatString('{{ 1 + 2 }}'), /not a value reference/);
  });
});

const space = (parameters: ParameterSpace['parameters'], combination?: string): ParameterSpace => ({
  parameters,
  combination: combination
    ? parseCombination(combination)
    : { kind: 'product', parts: parameters.map((p) => ({ kind: 'param', name: p.name })) },
});

describe('OpenJD parameter space expansion', () => {
  const foo3 = { name: 'Foo', type: 'INT' as const, range: '1-3' };
  const bar3 = { name: 'Bar', type: 'STRING' as const, range: ['one', 'two', 'three'] };
  const buz2 = { name: 'Buz', type: 'STRING' as const, range: ['Buz1', 'Buz2'] };

  it('a step without a parameter space is one task', () => {
    assert.deepEqual(expandParameterSpace(undefined, new Map(), 10), [{}]);
  });

  it('product: the last factor varies fastest', () => {
    const tasks = expandParameterSpace(space([foo3, buz2], 'Foo * Buz'), new Map(), 100);
    assert.deepEqual(tasks, [
      { Foo: '1', Buz: 'Buz1' },
      { Foo: '1', Buz: 'Buz2' },
      { Foo: '2', Buz: 'Buz1' },
      { Foo: '2', Buz: 'Buz2' },
      { Foo: '3', Buz: 'Buz1' },
      { Foo: '3', Buz: 'Buz2' },
    ]);
    // No combination given: the product of all parameters, in their order.
    assert.deepEqual(expandParameterSpace(space([foo3, buz2]), new Map(), 100), tasks);
  });

  it('association pairs values element by element', () => {
    assert.deepEqual(expandParameterSpace(space([foo3, bar3], '(Foo, Bar)'), new Map(), 100), [
      { Foo: '1', Bar: 'one' },
      { Foo: '2', Bar: 'two' },
      { Foo: '3', Bar: 'three' },
    ]);
  });

  it('mixes: (Foo, Bar) * Buz and (Foo, Bar * Buz)', () => {
    const a = expandParameterSpace(space([foo3, bar3, buz2], '(Foo, Bar) * Buz'), new Map(), 100);
    assert.equal(a.length, 6);
    assert.deepEqual(a[1], { Foo: '1', Bar: 'one', Buz: 'Buz2' });
    const foo4 = { name: 'Foo', type: 'INT' as const, range: '1-4' };
    const bar2 = { name: 'Bar', type: 'STRING' as const, range: ['one', 'two'] };
    const b = expandParameterSpace(space([foo4, bar2, buz2], '(Foo, Bar * Buz)'), new Map(), 100);
    assert.deepEqual(b, [
      { Foo: '1', Bar: 'one', Buz: 'Buz1' },
      { Foo: '2', Bar: 'one', Buz: 'Buz2' },
      { Foo: '3', Bar: 'two', Buz: 'Buz1' },
      { Foo: '4', Bar: 'two', Buz: 'Buz2' },
    ]);
  });

  it('refuses an association of unequal lengths, naming the parts', () => {
    assert.throws(
      () => expandParameterSpace(space([foo3, buz2], '(Foo, Buz)'), new Map(), 100),
      (e: unknown) =>
        e instanceof SpaceError && /same number of values; Foo has 3, Buz has 2/.test(e.message),
    );
  });

  it('resolves ranges with the job parameters, and bounds the task count', () => {
    const frames = { name: 'Frame', type: 'INT' as const, range: '1-{{Param.End}}' };
    const cams = { name: 'Camera', type: 'STRING' as const, range: ['{{RawParam.Cam}}', 'side'] };
    const symbols = new Map([
      ['Param.End', '4'],
      ['RawParam.Cam', 'front'],
    ]);
    const tasks = expandParameterSpace(space([frames, cams], 'Frame * Camera'), symbols, 100);
    assert.equal(tasks.length, 8);
    assert.deepEqual(tasks[7], { Frame: '4', Camera: 'side' });
    assert.throws(
      () => expandParameterSpace(space([frames, cams], 'Frame * Camera'), symbols, 7),
      /makes 8 tasks; at most 7/,
    );
    assert.throws(
      () => expandParameterSpace(space([frames]), new Map([['Param.End', 'x']]), 100),
      SpaceError,
    );
  });

  it('normalises INT and FLOAT lists', () => {
    const ints = { name: 'I', type: 'INT' as const, range: ['1', '2', ' 3'] };
    const floats = { name: 'F', type: 'FLOAT' as const, range: ['1', '2.50', '4.5e1'] };
    assert.deepEqual(
      expandParameterSpace(space([ints]), new Map(), 10).map((t) => t.I),
      ['1', '2', '3'],
    );
    assert.deepEqual(
      expandParameterSpace(space([floats]), new Map(), 10).map((t) => t.F),
      ['1', '2.5', '45'],
    );
  });
});

describe('OpenJD fixed chunking (TASK_CHUNKING, CHUNK[INT])', () => {
  it('CONTIGUOUS chunks never span a gap and are written a-b', () => {
    assert.deepEqual(chunkValues(seq(1, 10), 4, 'CONTIGUOUS'), ['1-4', '5-8', '9-10']);
    assert.deepEqual(chunkValues([1, 2, 3, 7, 8, 9], 5, 'CONTIGUOUS'), ['1-3', '7-9']);
    assert.deepEqual(chunkValues([5], 3, 'CONTIGUOUS'), ['5-5']);
  });
  it('NONCONTIGUOUS chunks take the next values whatever the gaps', () => {
    assert.deepEqual(chunkValues([1, 2, 3, 7, 8, 9], 4, 'NONCONTIGUOUS'), ['1-3,7', '8-9']);
  });
  it('a chunked frame range crossed with cameras', () => {
    const frames = {
      name: 'Frame',
      type: 'CHUNK[INT]' as const,
      range: '1-10',
      chunks: { defaultTaskCount: '{{Param.Chunk}}', rangeConstraint: 'CONTIGUOUS' as const },
    };
    const cams = { name: 'Camera', type: 'STRING' as const, range: ['a', 'b'] };
    const tasks = expandParameterSpace(
      space([frames, cams], 'Frame * Camera'),
      new Map([['Param.Chunk', '5']]),
      100,
    );
    assert.deepEqual(tasks, [
      { Frame: '1-5', Camera: 'a' },
      { Frame: '1-5', Camera: 'b' },
      { Frame: '6-10', Camera: 'a' },
      { Frame: '6-10', Camera: 'b' },
    ]);
    assert.throws(
      () => expandParameterSpace(space([frames]), new Map([['Param.Chunk', '0']]), 100),
      /defaultTaskCount must resolve to an integer of at least 1/,
    );
  });
});
