import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import { HeldConnection } from '../../src/engine/dispatch/held-connection.js';
import { openDatabase } from '../../src/store/database.js';
import { TEST_DATABASES } from '../helpers/databases.js';

/*
 * A writer's held connection (PostgreSQL): its batches run on one connection until it
 * gives it back, a failed batch gives it back, and one given back is the pool's again.
 */
const postgres = TEST_DATABASES.find((d) => d.name === 'postgres');

describe('a held connection (postgres)', { skip: !postgres && 'DROVER_TEST_PG is not set' }, () => {
  it('runs batches on one connection until released, and lets go of it after a failure', async () => {
    const { options, cleanup } = await postgres!.fresh();
    const open = openDatabase({ url: options.url!, schema: options.schema!, poolSize: 2 });
    const pid = async (db: typeof open.db) =>
      (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db)).rows[0]!.pid;
    try {
      const held = new HeldConnection(open.db);
      const first = await held.run(pid);
      // The pool's other connection, in use meanwhile, is never the held one.
      const [second, other] = await Promise.all([held.run(pid), pid(open.db)]);
      assert.equal(second, first, 'the same connection for each batch');
      assert.notEqual(other, first, 'the held connection is not lent to others');
      const inTransaction = await held.run((db) => db.transaction().execute((tx) => pid(tx)));
      assert.equal(inTransaction, first, 'a transaction runs on it too');

      await assert.rejects(
        held.run((db) => sql`select 1/0`.execute(db)),
        /division by zero/,
      );
      // Given back after the failure: with a pool of two, both are free for others at once.
      const both = await Promise.all([
        open.db.connection().execute(pid),
        open.db.connection().execute(async (db) => {
          await sql`select pg_sleep(0.05)`.execute(db);
          return pid(db);
        }),
      ]);
      assert.equal(new Set(both).size, 2);

      await held.run(pid);
      held.release();
      // close() waits for every connection to be given back: a held one would stall it.
      const closing = open.close();
      const timeout = new Promise((_, reject) =>
        setTimeout(() => reject(new Error('close waited for a held connection')), 5_000).unref(),
      );
      await Promise.race([closing, timeout]);
    } finally {
      await cleanup();
    }
  });
});
