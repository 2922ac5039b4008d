import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { openDatabase } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { TEST_DATABASES } from '../helpers/databases.js';

for (const database of TEST_DATABASES) {
  describe(`migrations (${database.name})`, () => {
    it('migrate a fresh database to the latest version, and a second run does nothing', async () => {
      const { options, cleanup } = await database.fresh({ empty: true });
      const open = openDatabase({
        url: options.url!,
        ...(options.schema !== undefined ? { schema: options.schema } : {}),
      });
      try {
        const first = await migrateToLatest(open);
        assert.ok(first.length >= 5, `ran ${first.join(', ')}`);
        assert.equal(first[0], '0001-initial');
        assert.deepEqual(await migrateToLatest(open), []);
        const tables = (await open.db.introspection.getTables()).map((t) => t.name);
        assert.ok(tables.includes('jobs') && tables.includes('tasks'), tables.join(', '));
        assert.ok(!tables.includes('kysely_migration'), 'internal tables are left out');
      } finally {
        await open.close();
        await cleanup();
      }
    });

    if (database.name !== 'postgres') return;

    // Several installations (or test runs) share one PostgreSQL server, each in its own
    // schema; one starting while another drops its schema must not fail.
    it('migrate while other schemas on the server are created and dropped', async () => {
      const url = process.env.DROVER_TEST_PG!;
      const churn = new pg.Client({ connectionString: url });
      await churn.connect();
      let stop = false;
      const churning = (async () => {
        for (let i = 0; !stop; i++) {
          const other = `churn_${process.pid}_${i}`;
          await churn.query(`create schema "${other}"`);
          await churn.query(
            `create table "${other}".a (id bigserial primary key, v text);
             create table "${other}".b (id bigserial primary key, a bigint references "${other}".a)`,
          );
          await churn.query(`drop schema "${other}" cascade`);
        }
      })();
      const fresh = await Promise.all(
        Array.from({ length: 6 }, () => database.fresh({ empty: true })),
      );
      try {
        for (const { options } of fresh) {
          const open = openDatabase({ url: options.url!, schema: options.schema! });
          try {
            await migrateToLatest(open);
            const tables = await open.db.introspection.getTables();
            assert.ok(tables.every((t) => t.schema === options.schema));
            const jobs = tables.find((t) => t.name === 'jobs');
            assert.ok(jobs?.columns.some((c) => c.name === 'id'));
          } finally {
            await open.close();
          }
        }
      } finally {
        stop = true;
        await churning;
        await churn.end();
        await Promise.all(fresh.map(({ cleanup }) => cleanup()));
      }
    });
  });
}
