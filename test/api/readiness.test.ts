import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import { expectStatus } from './support.js';

/*
 * Issue 17, health: /api/v1/ready answers 503 and says what is wrong when the schema is not
 * this build's (migrations pending, or run by a newer build), the database does not answer,
 * or (PostgreSQL) the event bus lost its LISTEN connection.
 */

for (const database of TEST_DATABASES) {
  describe(`native API: readiness (${database.name})`, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(database);
    });
    after(async () => {
      await t?.close().catch(() => undefined);
    });

    const migrations = () => {
      const schema = t.engine.database.schema;
      return schema !== undefined ? sql.id(schema, 'kysely_migration') : sql.id('kysely_migration');
    };
    const ready = () => t.request('GET', '/api/v1/ready');

    it('is ready on a migrated database', async () => {
      const res = expectStatus(await ready(), 200);
      assert.deepEqual(res.body, { status: 'ready', database: database.name });
    });

    it('answers 503 while a migration is pending, naming it', async () => {
      const db = t.engine.ctx.db;
      const [row] = (
        await sql<{ name: string; timestamp: string }>`select name, timestamp from ${migrations()}
          where name = '0023-node-telemetry'`.execute(db)
      ).rows;
      assert.ok(row);
      await sql`delete from ${migrations()} where name = ${row.name}`.execute(db);
      try {
        const res = expectStatus(await ready(), 503);
        assert.equal(res.body.status, 'unavailable');
        assert.deepEqual(res.body.problems, [
          'migrations pending: 0023-node-telemetry (run `drover migrate`, or restart the server)',
        ]);
        assert.equal(res.body.message, res.body.problems[0]);
      } finally {
        await sql`insert into ${migrations()} (name, timestamp) values (${row.name}, ${row.timestamp})`.execute(
          db,
        );
      }
      expectStatus(await ready(), 200);
    });

    it('answers 503 when a newer build migrated the database', async () => {
      const db = t.engine.ctx.db;
      await sql`insert into ${migrations()} (name, timestamp)
        values ('9999-from-the-future', '2027-01-01T00:00:00.000Z')`.execute(db);
      try {
        const res = expectStatus(await ready(), 503);
        assert.match(res.body.message, /migrated by a newer Drover \(9999-from-the-future\)/);
      } finally {
        await sql`delete from ${migrations()} where name = '9999-from-the-future'`.execute(db);
      }
      expectStatus(await ready(), 200);
    });

    it(
      'answers 503 while the event bus is down, and 200 once it is back',
      {
        skip: database.name !== 'postgres' ? 'SQLite has no event bus connection' : false,
      },
      async () => {
        // The engine's bus is wrapped by the farm metrics' observer.
        const channel = (t.engine.ctx.bus as unknown as { inner: { channel: string } }).inner
          .channel;
        assert.match(channel, /\w/);
        // The bus's own connection, found by the pid its NOTIFY carries (other suites share
        // the server): a replica that begins listening says hello, and the bus answers.
        const listener = new pg.Client({ connectionString: process.env.DROVER_TEST_PG });
        await listener.connect();
        let busPid: number;
        try {
          const heard = new Promise<number>((resolve, reject) => {
            listener.on('notification', (n) => {
              if (n.payload?.includes('"p":"here"')) resolve(n.processId);
            });
            setTimeout(() => reject(new Error('no NOTIFY from the bus in 10 s')), 10_000).unref();
          });
          await listener.query(`LISTEN "${channel}"`);
          await listener.query('select pg_notify($1, $2)', [
            channel,
            JSON.stringify({ o: 'readiness test', p: 'hello' }),
          ]);
          busPid = await heard;
        } finally {
          await listener.end();
        }
        await sql`select pg_terminate_backend(${busPid})`.execute(t.engine.ctx.db);
        // The bus reconnects 200 ms after it lost its connection: ask until /ready sees it.
        let down: Awaited<ReturnType<typeof ready>> | undefined;
        for (let i = 0; i < 500 && !down; i++) {
          const res = await ready();
          if (res.status === 503) down = res;
        }
        assert.ok(down, 'never saw the event bus down');
        assert.deepEqual(down.body.problems, [
          'the LISTEN connection to PostgreSQL is down (reconnecting)',
        ]);
        for (let i = 0; i < 500 && (await ready()).status !== 200; i++) {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        expectStatus(await ready(), 200);
      },
    );

    it('answers 503 when the database does not answer', async () => {
      await t.engine.ctx.db.destroy();
      const res = expectStatus(await ready(), 503);
      assert.match(res.body.message, /^the database does not answer: /);
      assert.equal(res.body.problems.length, 1);
    });
  });
}
