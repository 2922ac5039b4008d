import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import { findJob } from '../../src/store/jobs.js';
import { TEST_DATABASES, startTestEngine } from '../helpers/databases.js';

const postgres = TEST_DATABASES.find((d) => d.name === 'postgres');

describe('PostgreSQL pool', { skip: !postgres && 'DROVER_TEST_PG is not set' }, () => {
  it('survives the server ending its idle connections', async () => {
    const t = await startTestEngine(postgres!);
    try {
      const { db } = t.engine.ctx;
      // Open a few connections and learn their backends; they go back to the pool idle.
      const pids = await db.transaction().execute(async (tx) => {
        const others = await Promise.all(
          Array.from({ length: 3 }, () =>
            sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db),
          ),
        );
        const own = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(tx);
        return [...others, own].map((r) => r.rows[0]!.pid);
      });
      const admin = new pg.Client({ connectionString: process.env.DROVER_TEST_PG });
      await admin.connect();
      try {
        await admin.query('select pg_terminate_backend(pid) from unnest($1::int[]) as pid', [
          [...new Set(pids)],
        ]);
      } finally {
        await admin.end();
      }
      // The pool hears of each ended connection as an error; the process stays up, and
      // the next queries get new connections.
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(await findJob(db, 1), undefined);
      assert.equal(await findJob(db, 2), undefined);
    } finally {
      await t.close();
    }
  });

  it("keeps libpq's PGOPTIONS beside its own search_path", async () => {
    const before = process.env.PGOPTIONS;
    process.env.PGOPTIONS = '-c statement_timeout=4321';
    const t = await startTestEngine(postgres!);
    try {
      const { db } = t.engine.ctx;
      const timeout = await sql<{ statement_timeout: string }>`show statement_timeout`.execute(db);
      assert.equal(timeout.rows[0]!.statement_timeout, '4321ms');
      // The schema is still the engine's own: its tables are found unqualified.
      assert.equal(await findJob(db, 1), undefined);
    } finally {
      await t.close();
      if (before === undefined) delete process.env.PGOPTIONS;
      else process.env.PGOPTIONS = before;
    }
  });

  it('writes begin with the first statement, and keeps every transaction whole', async () => {
    const t = await startTestEngine(postgres!);
    try {
      const { db } = t.engine.ctx;
      // Held on one connection (a temporary table is the connection's own): a transaction
      // that commits, one that rolls back, one whose first statement fails, and one that
      // runs nothing, in turn.
      await db.connection().execute(async (conn) => {
        await sql`create temporary table if not exists pipelined (n int primary key)`.execute(conn);
        const inside = await conn.transaction().execute(async (tx) => {
          await sql`insert into pipelined values (1)`.execute(tx);
          // The transaction is open: its id stays the same across statements.
          const a = await sql<{ x: string }>`select txid_current()::text as x`.execute(tx);
          const b = await sql<{ x: string }>`select txid_current()::text as x`.execute(tx);
          return [a.rows[0]!.x, b.rows[0]!.x];
        });
        assert.equal(inside[0], inside[1]);
        await assert.rejects(
          conn.transaction().execute(async (tx) => {
            await sql`insert into pipelined values (2)`.execute(tx);
            throw new Error('undo');
          }),
          /undo/,
        );
        await assert.rejects(
          conn.transaction().execute(async (tx) => {
            await sql`insert into pipelined values (1)`.execute(tx);
          }),
          (error: { code?: string }) => error.code === '23505',
        );
        await conn.transaction().execute(async () => undefined);
        const rows = await sql<{ n: number }>`select n from pipelined order by n`.execute(conn);
        assert.deepEqual(
          rows.rows.map((r) => r.n),
          [1],
        );
        // No transaction is left open on the connection.
        const state = await sql<{
          s: string;
        }>`select pg_current_xact_id_if_assigned() is null as s`.execute(conn);
        assert.equal(String(state.rows[0]!.s), 'true');
      });
    } finally {
      await t.close();
    }
  });
});
