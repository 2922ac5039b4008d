import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  FrameListError,
  chunkFrames,
  formatFrameList,
  formatFrames,
  parseFrameList,
} from '../../src/domain/frame-list.js';

const range = (from: number, to: number, step = 1): number[] => {
  const out: number[] = [];
  if (from <= to) for (let f = from; f <= to; f += step) out.push(f);
  else for (let f = from; f >= to; f -= step) out.push(f);
  return out;
};

describe('parseFrameList', () => {
  const cases: Array<[string, number[]]> = [
    ['5', [5]],
    ['5,10,15,20', [5, 10, 15, 20]],
    ['5 10 15 20', [5, 10, 15, 20]],
    [' 5,, 10 ,\t15\n20, ', [5, 10, 15, 20]],
    ['1-100', range(1, 100)],
    ['1:100', range(1, 100)],
    ['1-100x5', range(1, 100, 5)],
    ['1:100:5', range(1, 100, 5)],
    ['1-100step5', range(1, 100, 5)],
    ['1-100by5', range(1, 100, 5)],
    ['1-100every5', range(1, 100, 5)],
    ['1:100x5', range(1, 100, 5)],
    ['1-10x20', [1]],
    ['100-1', range(100, 1)],
    ['100:1', range(100, 1)],
    ['100-1x5', range(100, 1, 5)],
    ['100:1:5', range(100, 1, 5)],
    ['-18', [-18]],
    ['-20,-21,-22--30', [-20, -21, ...range(-22, -30)]],
    ['-5-5', range(-5, 5)],
    ['-5:-1', [-5, -4, -3, -2, -1]],
    ['7-7', [7]],
    ['0', [0]],
    ['-0', [0]],
    ['007', [7]],
    [
      '105,200-400x3,500-600step4,1-100',
      [105, ...range(200, 400, 3), ...range(500, 600, 4), ...range(1, 100)],
    ],
  ];
  for (const [text, expected] of cases) {
    it(`expands ${JSON.stringify(text)}`, () => {
      assert.deepEqual(parseFrameList(text), expected);
    });
  }

  it('spot-checks step expansions', () => {
    assert.deepEqual(parseFrameList('1-100x5').slice(0, 4), [1, 6, 11, 16]);
    assert.equal(parseFrameList('1-100x5').at(-1), 96);
    assert.deepEqual(parseFrameList('100-1x5').slice(0, 3), [100, 95, 90]);
    assert.equal(parseFrameList('100-1x5').at(-1), 5);
    assert.equal(Object.is(parseFrameList('-0')[0], 0), true);
  });

  it('keeps the first occurrence of a duplicate and the written order', () => {
    assert.deepEqual(parseFrameList('5,3,5,1,3'), [5, 3, 1]);
    assert.deepEqual(parseFrameList('3-5,1-4'), [3, 4, 5, 1, 2]);
    assert.deepEqual(parseFrameList('10,1-3,10,2'), [10, 1, 2, 3]);
    assert.deepEqual(parseFrameList('5-1,1-5'), [5, 4, 3, 2, 1]);
  });

  const errors: Array<[string, RegExp]> = [
    ['', /no frames/],
    ['   ', /no frames/],
    [' , ,', /no frames/],
    ['abc', /unrecognised token "abc"/],
    ['1-', /unrecognised token "1-"/],
    ['x5', /unrecognised token "x5"/],
    ['1--', /unrecognised token "1--"/],
    ['1.5', /unrecognised token "1.5"/],
    ['1-2.5', /unrecognised token "1-2.5"/],
    ['-', /unrecognised token "-"/],
    ['1-100-5', /unrecognised token "1-100-5"/],
    ['1,2,three', /unrecognised token "three"/],
    ['1-10:2', /unrecognised token "1-10:2"/],
    ['1e3', /unrecognised token "1e3"/],
    ['+5', /unrecognised token "\+5"/],
    ['1-10x0', /step must be a positive integer in "1-10x0"/],
    ['1-10x', /step must be a positive integer in "1-10x"/],
    ['1-10x-2', /step must be a positive integer in "1-10x-2"/],
    ['1-10xabc', /step must be a positive integer in "1-10xabc"/],
    ['1-10step1.5', /step must be a positive integer in "1-10step1.5"/],
    ['1:10:0', /step must be a positive integer in "1:10:0"/],
    ['99999999999999999999', /out of range/],
  ];
  for (const [text, pattern] of errors) {
    it(`rejects ${JSON.stringify(text)}`, () => {
      assert.throws(
        () => parseFrameList(text),
        (err: unknown) => {
          assert.ok(err instanceof FrameListError);
          assert.ok(err instanceof Error);
          assert.match(err.message, pattern);
          assert.ok(err.message.startsWith(`invalid frame list ${JSON.stringify(text)}: `));
          return true;
        },
      );
    });
  }

  it('produces the documented message for a zero step', () => {
    assert.throws(() => parseFrameList('1-10x0'), {
      name: 'FrameListError',
      message: 'invalid frame list "1-10x0": step must be a positive integer in "1-10x0"',
    });
  });

  it('rejects huge ranges before expanding them', () => {
    assert.throws(
      () => parseFrameList('1-2000000000'),
      /limit of 1000000 frames at "1-2000000000"/,
    );
    // Frames are 32-bit (PostgreSQL integer): past that the frame itself is refused.
    assert.throws(
      () => parseFrameList('1-999999999999'),
      /frame 999999999999 is out of range \(-2147483648 to 2147483647\)/,
    );
    assert.throws(() => parseFrameList('-9007199254740991-9007199254740991'), FrameListError);
  });

  it('honours maxFrames, counting frames as written', () => {
    assert.equal(parseFrameList('1-1000000').length, 1_000_000);
    assert.throws(() => parseFrameList('1-1000001'), FrameListError);
    assert.deepEqual(parseFrameList('1-10', { maxFrames: 10 }), range(1, 10));
    assert.throws(() => parseFrameList('1-11', { maxFrames: 10 }), /limit of 10 frames/);
    assert.throws(() => parseFrameList('1-6,1-6', { maxFrames: 10 }), /at "1-6"/);
    assert.deepEqual(parseFrameList('1-100x10', { maxFrames: 10 }), range(1, 100, 10));
  });

  it('rejects a nonsensical maxFrames', () => {
    assert.throws(() => parseFrameList('1', { maxFrames: 0 }), FrameListError);
    assert.throws(() => parseFrameList('1', { maxFrames: 1.5 }), FrameListError);
    assert.throws(() => parseFrameList('1', { maxFrames: Number.NaN }), FrameListError);
  });
});

describe('chunkFrames', () => {
  it('chunks 1-400 by 1 into 400 single-frame tasks', () => {
    const chunks = chunkFrames(parseFrameList('1-400'), 1);
    assert.equal(chunks.length, 400);
    assert.deepEqual(chunks[20], { frames: [21], start: 21, end: 21, label: '21-21' });
  });

  it('chunks 1-20 by 2 into 10 tasks', () => {
    const chunks = chunkFrames(parseFrameList('1-20'), 2);
    assert.equal(chunks.length, 10);
    assert.deepEqual(
      chunks.map((c) => c.label),
      ['1-2', '3-4', '5-6', '7-8', '9-10', '11-12', '13-14', '15-16', '17-18', '19-20'],
    );
    assert.deepEqual(chunks[9], { frames: [19, 20], start: 19, end: 20, label: '19-20' });
  });

  it('leaves a smaller last chunk', () => {
    const chunks = chunkFrames(parseFrameList('1-10'), 3);
    assert.deepEqual(
      chunks.map((c) => c.frames),
      [[1, 2, 3], [4, 5, 6], [7, 8, 9], [10]],
    );
    assert.deepEqual(chunks[3], { frames: [10], start: 10, end: 10, label: '10-10' });
  });

  it('labels non-contiguous chunks run by run', () => {
    assert.equal(chunkFrames([1, 6], 2)[0]?.label, '1-1,6-6');
    const [chunk] = chunkFrames(parseFrameList('1-3,7,9-10'), 10);
    assert.deepEqual(chunk, {
      frames: [1, 2, 3, 7, 9, 10],
      start: 1,
      end: 10,
      label: '1-3,7-7,9-10',
    });
  });

  it('uses written order for start and end', () => {
    const [chunk] = chunkFrames(parseFrameList('10-8'), 3);
    assert.deepEqual(chunk, { frames: [10, 9, 8], start: 10, end: 8, label: '10-10,9-9,8-8' });
  });

  it('returns no chunks for no frames', () => {
    assert.deepEqual(chunkFrames([], 5), []);
  });

  it('rejects a chunk size that is not an integer >= 1', () => {
    for (const size of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => chunkFrames([1, 2], size), FrameListError, `chunk size ${size}`);
    }
  });
});

describe('formatFrames', () => {
  it('writes ascending runs as a-b and lone frames as a-a', () => {
    assert.equal(formatFrames([21]), '21-21');
    assert.equal(formatFrames([1, 2, 3, 4]), '1-4');
    assert.equal(formatFrames([1, 2, 5, 7, 8, 9]), '1-2,5-5,7-9');
    assert.equal(formatFrames([-3, -2, -1, 0, 1]), '-3-1');
    assert.equal(formatFrames([3, 2, 1]), '3-3,2-2,1-1');
    assert.equal(formatFrames([]), '');
  });
});

describe('formatFrameList', () => {
  it('writes ascending and descending runs and lone frames', () => {
    assert.equal(formatFrameList([1, 2, 3, 4, 5]), '1-5');
    assert.equal(formatFrameList([5, 4, 3]), '5-3');
    assert.equal(formatFrameList([7]), '7');
    assert.equal(formatFrameList([1, 3, 5]), '1,3,5');
    assert.equal(formatFrameList([1, 2, 3, 10, 9, 8, 20]), '1-3,10-8,20');
    assert.equal(formatFrameList([-3, -2, -1]), '-3--1');
    assert.equal(formatFrameList([-1, -2, -3]), '-1--3');
    assert.equal(formatFrameList([]), '');
  });

  it('rejects lists that cannot round-trip', () => {
    assert.throws(() => formatFrameList([1, 2, 1]), FrameListError);
    assert.throws(() => formatFrameList([1.5]), FrameListError);
    assert.throws(() => formatFrameList([Number.NaN]), FrameListError);
  });
});

describe('properties', () => {
  const frame = fc.integer({ min: -10_000, max: 10_000 });

  it('parseFrameList(formatFrameList(a)) round-trips distinct frames', () => {
    fc.assert(
      fc.property(fc.uniqueArray(frame, { minLength: 1, maxLength: 200 }), (frames) => {
        assert.deepEqual(parseFrameList(formatFrameList(frames)), frames);
      }),
    );
  });

  it('round-trips runs, which the generator above rarely produces', () => {
    const runs = fc.array(
      fc
        .tuple(frame, fc.integer({ min: 1, max: 20 }), fc.boolean())
        .map(([start, len, down]) => range(start, down ? start - len + 1 : start + len - 1)),
      { minLength: 1, maxLength: 10 },
    );
    fc.assert(
      fc.property(runs, (parts) => {
        const frames = [...new Set(parts.flat())];
        assert.deepEqual(parseFrameList(formatFrameList(frames)), frames);
      }),
    );
  });

  it('chunkFrames concatenates back to its input in full-size chunks', () => {
    fc.assert(
      fc.property(
        fc.array(frame, { maxLength: 200 }),
        fc.integer({ min: 1, max: 50 }),
        (frames, size) => {
          const chunks = chunkFrames(frames, size);
          assert.deepEqual(
            chunks.flatMap((c) => c.frames),
            frames,
          );
          chunks.forEach((c, i) => {
            if (i < chunks.length - 1) assert.equal(c.frames.length, size);
            else assert.ok(c.frames.length >= 1 && c.frames.length <= size);
            assert.equal(c.start, c.frames[0]);
            assert.equal(c.end, c.frames.at(-1));
          });
        },
      ),
    );
  });

  it('stepped ranges stay on the step, within bounds, without duplicates', () => {
    fc.assert(
      fc.property(frame, frame, fc.integer({ min: 1, max: 500 }), (a, b, step) => {
        const frames = parseFrameList(`${a}-${b}x${step}`);
        assert.equal(new Set(frames).size, frames.length);
        assert.equal(frames[0], a);
        assert.equal(frames.length, Math.floor(Math.abs(b - a) / step) + 1);
        for (const f of frames) {
          // `===` rather than assert.equal: a remainder of -0 is fine, Object.is would reject it.
          assert.ok((f - a) % step === 0, `${f} is off the step`);
          assert.ok(f >= Math.min(a, b) && f <= Math.max(a, b));
        }
      }),
    );
  });

  it('a list of ranges parses to the de-duplicated concatenation of its parts', () => {
    const part = fc.oneof(
      frame.map(String),
      fc.tuple(frame, frame, fc.constantFrom('-', ':')).map(([a, b, sep]) => `${a}${sep}${b}`),
      fc
        .tuple(
          frame,
          frame,
          fc.integer({ min: 1, max: 300 }),
          fc.constantFrom('x', 'step', 'by', 'every'),
        )
        .map(([a, b, s, kw]) => `${a}-${b}${kw}${s}`),
      fc.tuple(frame, frame, fc.integer({ min: 1, max: 300 })).map(([a, b, s]) => `${a}:${b}:${s}`),
    );
    const separator = fc.constantFrom(',', ' ', ', ', ' ,\t', ',,');
    fc.assert(
      fc.property(fc.array(fc.tuple(part, separator), { minLength: 1, maxLength: 8 }), (parts) => {
        const text = parts.map(([p, sep]) => p + sep).join('');
        const expected = [...new Set(parts.flatMap(([p]) => parseFrameList(p)))];
        const actual = parseFrameList(text);
        assert.deepEqual(actual, expected);
        assert.equal(new Set(actual).size, actual.length);
      }),
    );
  });
});
