import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { matchesGlob } from '../../src/domain/glob.js';

/* Seed output patterns matched against output names (paths relative to the output dir). */

describe('glob patterns', () => {
  const cases: [string, string, boolean][] = [
    ['*.txt', 'a.txt', true],
    ['*.txt', 'out/a.txt', false],
    ['out/*.txt', 'out/a.txt', true],
    ['out/*.txt', 'out/x/a.txt', false],
    ['**/*.png', 'a.png', true],
    ['**/*.png', 'a/b/c.png', true],
    ['out/**/*.png', 'out/c.png', true],
    ['out/**', 'out/a/b', true],
    ['file?.dat', 'file1.dat', true],
    ['file?.dat', 'file10.dat', false],
    ['file?.dat', 'file/.dat', false],
    ['[ab].txt', 'b.txt', true],
    ['[!ab].txt', 'b.txt', false],
    ['[!ab].txt', 'c.txt', true],
    ['a+b(1).txt', 'a+b(1).txt', true],
    ['a.txt', 'abtxt', false],
    ['result_*.tif', 'result_2024.tif', true],
  ];
  for (const [pattern, name, expected] of cases) {
    it(`${pattern} ${expected ? 'matches' : 'does not match'} ${name}`, () => {
      assert.equal(matchesGlob(name, pattern), expected);
    });
  }
});
