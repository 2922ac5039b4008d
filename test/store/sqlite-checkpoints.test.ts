import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import { openDatabase } from '../../src/store/database.js';
import { eventually } from '../helpers/eventually.js';

describe('SQLite checkpoints in a worker thread', () => {
  it("copies the WAL into the database file off the writer's thread, and closes with it", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'drover-checkpoints-'));
    const file = join(dir, 'drover.sqlite');
    const open = openDatabase({ url: file });
    try {
      await sql`create table filler (id integer primary key, body text)`.execute(open.db);
      // Once the thread runs, the writer checkpoints only as a backstop.
      await eventually(async () => {
        const { rows } = await sql<{
          wal_autocheckpoint: number;
        }>`pragma wal_autocheckpoint`.execute(open.db);
        assert.equal(
          rows[0]?.wal_autocheckpoint,
          10_000,
          'the writer leaves checkpoints to the thread',
        );
      });
      const before = statSync(file).size;
      // About 500 pages, far below the writer's 10,000 (and the default 1,000): the pages
      // reach the database file only through the thread.
      for (let i = 0; i < 10; i++) {
        await open.db.transaction().execute(async (tx) => {
          for (let row = 0; row < 50; row++) {
            await sql`insert into filler (body) values (${'x'.repeat(3500)})`.execute(tx);
          }
        });
      }
      await eventually(() =>
        assert.ok(statSync(file).size - before > 1_500_000, 'the rows reach the database file'),
      );
    } finally {
      await open.close();
    }
    // The last connection to close removes the WAL: the thread's was closed too.
    assert.equal(existsSync(`${file}-wal`), false, 'every connection closed');
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts no thread, and touches no connection, once the writer is closed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'drover-checkpoints-'));
    const open = openDatabase({ url: join(dir, 'drover.sqlite') });
    const uncaught: unknown[] = [];
    const record = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', record);
    try {
      // As the readiness test does: the connection closes without the database's close().
      // (Kysely closes it only if a query has opened it.)
      await sql`select 1`.execute(open.db);
      await open.db.destroy();
      // Past the thread's start (1 s) and its 'ready' (the thread loads better-sqlite3 first),
      // on which the writer's pragma would be set.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      assert.deepEqual(uncaught, []);
    } finally {
      process.off('uncaughtException', record);
      await open.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('does not keep a process alive that never closes its database', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'drover-checkpoints-'));
    const database = new URL('../../src/store/database.ts', import.meta.url).href;
    // Opens the database, waits until the thread runs (the writer then checkpoints at
    // 10,000 pages), and leaves without close(): nothing else holds the process.
    const script = join(dir, 'open-and-leave.mjs');
    writeFileSync(
      script,
      `const { openDatabase } = await import(${JSON.stringify(database)});
      const { sql } = await import(${JSON.stringify(import.meta.resolve('kysely'))});
      const open = openDatabase({ url: ${JSON.stringify(join(dir, 'drover.sqlite'))} });
      const poll = setInterval(async () => {
        const { rows } = await sql\`pragma wal_autocheckpoint\`.execute(open.db);
        if (rows[0].wal_autocheckpoint !== 10000) return;
        clearInterval(poll);
        console.log('the thread runs');
      }, 100);`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    try {
      const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
      assert.equal(out.trim(), 'the thread runs');
      assert.deepEqual([code, signal], [0, null], 'the process exited by itself');
    } finally {
      clearTimeout(killer);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
