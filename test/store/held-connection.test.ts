import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import { HeldConnection } from '../../src/engine/dispatch/held-connection.js';
import { openDatabase, type Db } from '../../src/store/database.js';
import { TEST_DATABASES } from '../helpers/databases.js';

/*
 * A writer's held connection (PostgreSQL): its batches run on one connection until it
 * gives it back, a failed batch gives it back, and one given back is the pool's again.
 * Batches may run on it at once (the write lane writes its next transaction behind a
 * commit): their transactions follow one another on the connection, never share one.
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

  it("writes a transaction begun while another is open behind that one's end, and apart from it", async () => {
    const { options, cleanup } = await postgres!.fresh();
    const open = openDatabase({ url: options.url!, schema: options.schema!, poolSize: 2 });
    const rows = async (db: Db) =>
      (
        await sql<{ state: string }>`select state from job_tally_deltas order by state`.execute(db)
      ).rows.map((r) => r.state);
    const seen = sql<{ pid: number; txid: string; rows: string }>`select pg_backend_pid() as pid,
      txid_current()::text as txid, (select count(*) from job_tally_deltas)::text as rows`;
    const held = new HeldConnection(open.db);
    try {
      let entered!: () => void;
      const firstEntered = new Promise<void>((resolve) => (entered = resolve));
      const pause = () => new Promise((resolve) => setTimeout(resolve, 100));

      // The first commits after a pause; the second, begun during that pause, runs after it.
      const [first, second] = await Promise.all([
        held.run((db) =>
          db.transaction().execute(async (tx) => {
            await sql`insert into job_tally_deltas (state, n) values ('first', 1)`.execute(tx);
            const mine = (await seen.execute(tx)).rows[0]!;
            entered();
            await pause();
            return mine;
          }),
        ),
        firstEntered.then(() =>
          held.run((db) =>
            db.transaction().execute(async (tx) => (await seen.execute(tx)).rows[0]!),
          ),
        ),
      ]);
      assert.equal(second.pid, first.pid, 'both on the held connection');
      assert.notEqual(second.txid, first.txid, 'each in its own transaction');
      assert.equal(second.rows, '1', "the second sees the first's committed row");

      // The first rolls back after a pause; the second, begun during it, still commits.
      let enteredAgain!: () => void;
      const firstEnteredAgain = new Promise<void>((resolve) => (enteredAgain = resolve));
      const [failed, committed] = await Promise.allSettled([
        held.run((db) =>
          db.transaction().execute(async (tx) => {
            await sql`insert into job_tally_deltas (state, n) values ('rolled back', 1)`.execute(
              tx,
            );
            enteredAgain();
            await pause();
            throw new Error('the first gives up');
          }),
        ),
        firstEnteredAgain.then(() =>
          held.run((db) =>
            db.transaction().execute(async (tx) => {
              await sql`insert into job_tally_deltas (state, n) values ('second', 1)`.execute(tx);
            }),
          ),
        ),
      ]);
      assert.equal(failed.status, 'rejected');
      assert.equal(committed.status, 'fulfilled');
      assert.deepEqual(await rows(open.db), ['first', 'second']);

      // Both failures and successes gave the connection back once no batch was on it: the
      // pool's two connections are both free for others.
      held.release();
      const pids = await Promise.all(
        [0, 1].map(() =>
          open.db.connection().execute(async (db) => {
            await sql`select pg_sleep(0.05)`.execute(db);
            return (await seen.execute(db)).rows[0]!.pid;
          }),
        ),
      );
      assert.equal(new Set(pids).size, 2);
    } finally {
      // Given back even when an assertion failed, or closing would wait for it for ever.
      held.release();
      await open.close();
      await cleanup();
    }
  });
});
