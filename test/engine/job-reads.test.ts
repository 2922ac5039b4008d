import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EngineContext } from '../../src/engine/context.js';
import { readJobAfterEvent } from '../../src/engine/events/job-reads.js';
import { submitJob } from '../../src/engine/jobs/job-submission.js';
import { TEST_DATABASES, startTestEngine } from '../helpers/databases.js';

/*
 * The bus listeners' job reads: those asked for in one turn of the event loop are one
 * query, and each caller gets its own job as it is after the commit.
 */

const echo = { type: 'command-line', user: 'alice', parameters: { executable: 'echo' } };

/** The engine's context, with a database that counts the queries made through it. */
function counting(ctx: EngineContext): { ctx: EngineContext; queries: () => number } {
  let n = 0;
  const db = new Proxy(ctx.db, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      if (key !== 'selectFrom' || typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        n++;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { ctx: { ...ctx, db }, queries: () => n };
}

for (const database of TEST_DATABASES) {
  describe(`job reads after events (${database.name})`, () => {
    it('reads the jobs asked for in one turn in one query', async () => {
      const t = await startTestEngine(database);
      try {
        const ids: number[] = [];
        for (const name of ['a', 'b', 'c']) {
          ids.push(await submitJob(t.engine.ctx, { ...echo, name, frames: '1' }));
        }
        const { ctx, queries } = counting(t.engine.ctx);
        const read = await Promise.all([
          readJobAfterEvent(ctx, ids[0]!),
          readJobAfterEvent(ctx, ids[1]!),
          readJobAfterEvent(ctx, ids[0]!),
          readJobAfterEvent(ctx, ids[2]!),
          readJobAfterEvent(ctx, 999_999),
        ]);
        assert.equal(queries(), 1);
        assert.deepEqual(
          read.map((j) => j?.name),
          ['a', 'b', 'a', 'c', undefined],
        );
        // A later turn is a query of its own, and sees what was committed since.
        await t.engine.ctx.db
          .updateTable('jobs')
          .set({ name: 'renamed' })
          .where('id', '=', ids[1]!)
          .execute();
        assert.equal((await readJobAfterEvent(ctx, ids[1]!))?.name, 'renamed');
        assert.equal(queries(), 2);
      } finally {
        await t.close();
      }
    });
  });
}
