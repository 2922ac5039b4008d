import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  DEFAULT_PRIORITY,
  SCALE_DEFAULT_PRIORITY,
  priorityFromDeadline,
  priorityFromScale,
  priorityToDeadline,
  priorityToScale,
} from '../../src/domain/priority.js';

const anyInt = fc.integer({ min: -1_000_000, max: 1_000_000 });

describe('priority mapping', () => {
  it('defaults: canonical 50, Scale 100, and they meet', () => {
    assert.equal(DEFAULT_PRIORITY, 50);
    assert.equal(SCALE_DEFAULT_PRIORITY, 100);
    assert.equal(priorityFromScale(100), 50);
    assert.equal(priorityToScale(50), 100);
    assert.equal(priorityFromScale(SCALE_DEFAULT_PRIORITY), DEFAULT_PRIORITY);
    assert.equal(priorityToScale(DEFAULT_PRIORITY), SCALE_DEFAULT_PRIORITY);
  });

  it('known Scale values map as expected', () => {
    assert.equal(priorityFromScale(1), 149);
    assert.equal(priorityFromScale(50), 100);
    assert.equal(priorityFromScale(150), 0);
    assert.equal(priorityFromScale(200), -50);
  });

  it('every Scale value round-trips through the canonical priority unchanged', () => {
    fc.assert(
      fc.property(anyInt, (scale) => {
        assert.equal(priorityToScale(priorityFromScale(scale)), scale);
      }),
    );
  });

  it('every canonical priority round-trips through Scale unchanged', () => {
    fc.assert(
      fc.property(anyInt, (canonical) => {
        assert.equal(priorityFromScale(priorityToScale(canonical)), canonical);
      }),
    );
  });

  it('Scale order is kept: a lower Scale value is a higher canonical priority', () => {
    fc.assert(
      fc.property(anyInt, anyInt, (a, b) => {
        fc.pre(a !== b);
        const [low, high] = a < b ? [a, b] : [b, a];
        assert.ok(priorityFromScale(low) > priorityFromScale(high));
        // and back: a higher canonical value is a lower Scale value
        assert.ok(
          priorityToScale(priorityFromScale(low)) < priorityToScale(priorityFromScale(high)),
        );
      }),
    );
  });

  it('Scale maps integers to integers', () => {
    fc.assert(
      fc.property(anyInt, (scale) => {
        assert.ok(Number.isInteger(priorityFromScale(scale)));
        assert.ok(Number.isInteger(priorityToScale(scale)));
      }),
    );
  });

  it('Deadline priorities are the canonical ones (identity both ways)', () => {
    fc.assert(
      fc.property(anyInt, (p) => {
        assert.equal(priorityFromDeadline(p), p);
        assert.equal(priorityToDeadline(p), p);
        assert.equal(priorityToDeadline(priorityFromDeadline(p)), p);
      }),
    );
    // Deadline's own range and default
    for (const p of [0, 50, 100]) assert.equal(priorityFromDeadline(p), p);
    assert.equal(priorityFromDeadline(50), DEFAULT_PRIORITY);
  });

  it('Deadline order is kept: higher runs first on both scales', () => {
    fc.assert(
      fc.property(anyInt, anyInt, (a, b) => {
        fc.pre(a !== b);
        assert.equal(a > b, priorityFromDeadline(a) > priorityFromDeadline(b));
      }),
    );
  });
});
