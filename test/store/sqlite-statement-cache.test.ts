import assert from 'node:assert/strict';
import { test } from 'node:test';
import SQLite from 'better-sqlite3';
import type { SqliteStatement } from 'kysely';
import { cachingStatements, withOpaqueLimits } from '../../src/store/sqlite-statement-cache.js';

test('a bound LIMIT and OFFSET are prepared as casts, and still page the rows', () => {
  const sqlite = new SQLite(':memory:');
  try {
    sqlite.exec('create table t (id integer primary key, v text)');
    const insert = sqlite.prepare('insert into t (v) values (?)');
    for (let i = 1; i <= 10; i++) insert.run(`v${i}`);
    const db = cachingStatements(sqlite);
    const page = db.prepare('select id from t order by id limit ? offset ?') as SqliteStatement & {
      source: string;
    };
    assert.equal(
      page.source,
      'select id from t order by id limit cast(? as integer) offset cast(? as integer)',
    );
    assert.deepEqual(
      page.all([3, 4]).map((r) => (r as { id: number }).id),
      [5, 6, 7],
    );
    // Kysely's text for the same statement is the cache's key: a second prepare hits.
    assert.equal(db.prepare('select id from t order by id limit ? offset ?'), page);
    assert.equal(withOpaqueLimits('select 1 limit 4'), 'select 1 limit 4');
    assert.equal(
      withOpaqueLimits('select * from (select 1 LIMIT ?) x limit ?'),
      'select * from (select 1 LIMIT cast(? as integer)) x limit cast(? as integer)',
    );
  } finally {
    sqlite.close();
  }
});

test('rows are the objects better-sqlite3 would make, however the columns are named', () => {
  const sqlite = new SQLite(':memory:');
  try {
    sqlite.exec('create table t (id integer primary key, v text, b blob, n real)');
    sqlite.prepare('insert into t (v, b, n) values (?, ?, ?)').run('a', Buffer.from('xy'), 1.5);
    sqlite.prepare('insert into t (v, b, n) values (?, ?, ?)').run(null, null, null);
    const db = cachingStatements(sqlite);
    const texts = [
      'select * from t order by id',
      // A name given twice: better-sqlite3 keeps its first place and its last value.
      'select id, v as x, n as x, 7 as "9", \'q\' as "odd ""name""" from t order by id',
      // A literal would take this name for the prototype: such rows are better-sqlite3's own.
      'select id, v as "__proto__" from t order by id',
      'select count(*) from t',
    ];
    for (const text of texts) {
      const expected = sqlite.prepare(text).all();
      const rows = db.prepare(text).all([]);
      assert.deepEqual(rows, expected, text);
      // The same keys in the same order, and plain objects, as deepEqual alone would not say.
      assert.deepEqual(
        rows.map((r) => Object.keys(r as object)),
        expected.map((r) => Object.keys(r as object)),
        text,
      );
      assert.deepEqual([...db.prepare(text).iterate([])], expected, text);
    }
    // Writes are unchanged.
    const written = db.prepare('update t set v = ? where id = ?').run(['b', 1]);
    assert.deepEqual(written, { changes: 1, lastInsertRowid: 2 });
  } finally {
    sqlite.close();
  }
});
