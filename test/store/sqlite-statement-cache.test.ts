import assert from 'node:assert/strict';
import { test } from 'node:test';
import SQLite from 'better-sqlite3';
import { cachingStatements, withOpaqueLimits } from '../../src/store/sqlite-statement-cache.js';

test('a bound LIMIT and OFFSET are prepared as casts, and still page the rows', () => {
  const sqlite = new SQLite(':memory:');
  try {
    sqlite.exec('create table t (id integer primary key, v text)');
    const insert = sqlite.prepare('insert into t (v) values (?)');
    for (let i = 1; i <= 10; i++) insert.run(`v${i}`);
    const db = cachingStatements(sqlite);
    const page = db.prepare('select id from t order by id limit ? offset ?') as SQLite.Statement;
    assert.equal(
      page.source,
      'select id from t order by id limit cast(? as integer) offset cast(? as integer)',
    );
    assert.deepEqual(
      page.all(3, 4).map((r) => (r as { id: number }).id),
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
