import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkPathMappingRule,
  mergePathMappingRules,
  sourceKey,
  type PathMappingRule,
} from '../../src/domain/path-mapping-rules.js';
import { mapPath, orderRules } from '../../src/formats/openjd/path-mapping.js';

/* A task's rules: its pool's, then the worker's file's, which replaces a pool rule of the same source. */

const posix = (source: string, destination: string): PathMappingRule => ({
  source_path_format: 'POSIX',
  source_path: source,
  destination_path: destination,
});
const windows = (source: string, destination: string): PathMappingRule => ({
  source_path_format: 'WINDOWS',
  source_path: source,
  destination_path: destination,
});

describe('path mapping rules: pool and worker', () => {
  it("puts the pool's first, and a worker rule of the same source replaces the pool's", () => {
    const pool = [
      posix('/studio', '/mnt/studio'),
      windows('P:\\', '/mnt/p'),
      posix('/cache', '/x'),
    ];
    const local = [
      posix('/cache/', '/local/cache'),
      windows('p:/', '/local/p'),
      posix('/refs', '/r'),
    ];
    const merged = mergePathMappingRules(pool, local);
    assert.deepEqual(merged, [pool[0], ...local]);
    const ordered = orderRules(merged);
    assert.equal(mapPath(ordered, '/cache/a/b.vdb'), '/local/cache/a/b.vdb');
    assert.equal(mapPath(ordered, 'P:\\tex\\w.png'), '/local/p/tex/w.png');
    assert.equal(mapPath(ordered, '/studio/sh1'), '/mnt/studio/sh1');
    assert.deepEqual(mergePathMappingRules([], local), local);
  });

  it('tells one source path from another as its format matches paths', () => {
    assert.equal(sourceKey(posix('/a/b/', '/x')), sourceKey(posix('/a//b', '/y')));
    assert.notEqual(sourceKey(posix('/A/b', '/x')), sourceKey(posix('/a/b', '/x')));
    assert.equal(sourceKey(windows('C:\\Proj\\', '/x')), sourceKey(windows('c:/proj', '/y')));
    assert.equal(sourceKey(windows('C:\\', '/x')), sourceKey(windows('c:/', '/y')));
    assert.notEqual(sourceKey(windows('C:\\a', '/x')), sourceKey(posix('/a', '/x')));
  });

  it("checks a pool's rule more strictly than a worker's file", () => {
    const pool = { maxPathLength: 1024, absoluteDestination: true };
    assert.throws(
      () => checkPathMappingRule(posix('/a', 'relative'), 'rule', pool),
      /rule\.destination_path must be an absolute path/,
    );
    assert.equal(
      checkPathMappingRule(posix('/a', 'relative'), 'rule', { maxPathLength: 4096 })
        .destination_path,
      'relative',
    );
    assert.throws(
      () => checkPathMappingRule(posix('/a\tb', '/x'), 'rule', pool),
      /control characters/,
    );
    assert.equal(
      checkPathMappingRule(
        { ...windows('D:\\x', 'E:\\y'), source_path_format: 'windows' },
        'r',
        pool,
      ).source_path_format,
      'WINDOWS',
    );
  });
});
