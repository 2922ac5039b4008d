import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { iso } from '../../src/api/native/representations.js';

describe('instants as ISO 8601 text', () => {
  it('gives toISOString’s text for every instant, cached or not', () => {
    const base = Date.UTC(2026, 11, 6, 21, 58, 31, 123);
    // The same instants twice (the second pass is served from the cache), instants 64 ms
    // apart (one cache slot, each replacing the last), and the edges of the range.
    const instants = [
      ...[0, 1, 2, 63, 64, 128, 1000].map((d) => base + d),
      ...[0, 1, 2, 63, 64, 128, 1000].map((d) => base + d),
      ...Array.from({ length: 8 }, (_, k) => base + 64 * k),
      base + 64,
      0,
      -1,
      -86_400_000,
      2 ** 31 + 5,
      8.64e15,
      -8.64e15,
      base + 0.5,
      base,
    ];
    for (const ms of instants) assert.equal(iso(ms), new Date(ms).toISOString(), String(ms));
    assert.equal(iso(null), null);
    assert.throws(() => iso(Number.NaN), RangeError);
  });
});
