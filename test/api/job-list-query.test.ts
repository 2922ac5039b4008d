import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { decodeCursor } from '../../src/api/native/job-cursor.js';
import {
  listJobPage,
  listJobs,
  listOrder,
  type JobFilter,
  type JobSort,
} from '../../src/api/native/job-query.js';
import type { EngineContext } from '../../src/engine/context.js';
import { deleteJob, purgeJob, updateJobSettings } from '../../src/engine/jobs/job-actions.js';
import { submitJob, type SubmitJobSpec } from '../../src/engine/jobs/job-submission.js';
import type { Db, DialectName } from '../../src/store/database.js';
import { exactTotalLimit } from '../../src/store/list-query/index.js';
import { TEST_DATABASES, startTestEngine, type TestEngine } from '../helpers/databases.js';

/* Job lists in the store: cursors, name search through the trigram indexes, capped totals. */

const submit = (ctx: EngineContext, spec: Partial<SubmitJobSpec> = {}): Promise<number> =>
  submitJob(ctx, {
    type: 'command-line',
    user: 'alice',
    parameters: { executable: 'echo' },
    ...spec,
  });

/** Every id a list holds, read `limit` at a time by following the cursors. */
async function walk(
  db: Db,
  dialect: DialectName,
  filter: JobFilter,
  sort: JobSort[],
  limit: number,
): Promise<number[]> {
  const ids: number[] = [];
  let after: (string | number)[] | undefined;
  for (let pages = 0; pages < 100; pages++) {
    const page = await listJobPage(db, dialect, filter, sort, {
      limit,
      offset: 0,
      ...(after ? { after } : {}),
    });
    ids.push(...page.rows.map((r) => r.id));
    if (page.next === undefined) return ids;
    assert.equal(page.rows.length, limit, 'only a full page has a next');
    after = decodeCursor(listOrder(sort), page.next);
    assert.ok(after, 'the cursor decodes for the same sort');
  }
  throw new Error('the cursor never ended');
}

async function searchIds(t: TestEngine, text: string, deleted?: 'include'): Promise<number[]> {
  const { readDb, dialect } = t.engine.database;
  const filter: JobFilter = { text, ...(deleted ? { deleted } : {}) };
  const page = await listJobs(readDb, dialect, filter, [{ field: 'id', direction: 'asc' }], {
    limit: 100,
    offset: 0,
  });
  assert.equal(page.total, page.rows.length);
  assert.equal(page.totalExact, true);
  return page.rows.map((r) => r.id);
}

for (const database of TEST_DATABASES) {
  describe(`job lists in the store (${database.name})`, () => {
    let t: TestEngine;
    before(async () => {
      t = await startTestEngine(database);
      // Ties everywhere: one clock instant, three priorities, two pools, repeated names.
      for (let i = 0; i < 23; i++) {
        await submit(t.engine.ctx, {
          name: `render_${i % 7}`,
          priority: (i % 3) * 10,
          pool: i % 2 ? 'gpu' : 'cpu',
          user: i % 4 ? 'alice' : 'bob',
        });
      }
    });
    after(async () => {
      await t?.close();
    });

    it('cursors walk every order the same as one long offset page, without overlap', async () => {
      const { readDb, dialect } = t.engine.database;
      const sorts: JobSort[][] = [
        [{ field: 'id', direction: 'desc' }],
        [{ field: 'name', direction: 'asc' }],
        [
          { field: 'priority', direction: 'desc' },
          { field: 'created_at', direction: 'asc' },
        ],
        [
          { field: 'pool', direction: 'asc' },
          { field: 'name', direction: 'asc' },
        ],
        [
          { field: 'state', direction: 'asc' },
          { field: 'name', direction: 'desc' },
        ],
      ];
      for (const filter of [{}, { users: ['alice'] }, { pools: ['gpu'] }] as JobFilter[]) {
        for (const sort of sorts) {
          const all = await listJobs(readDb, dialect, filter, sort, { limit: 1000, offset: 0 });
          const ids = await walk(readDb, dialect, filter, sort, 4);
          const label = JSON.stringify({ filter, sort });
          assert.deepEqual(
            ids,
            all.rows.map((r) => r.id),
            label,
          );
          assert.equal(new Set(ids).size, ids.length, label);
          assert.equal(ids.length, all.total, label);
        }
      }
    });

    it('a sort on a column that may be null pages by offset only', async () => {
      const { readDb, dialect } = t.engine.database;
      const sort: JobSort[] = [{ field: 'started_at', direction: 'asc' }];
      const page = await listJobPage(readDb, dialect, {}, sort, { limit: 2, offset: 0 });
      assert.equal(page.rows.length, 2);
      assert.equal(page.next, undefined);
      assert.equal(decodeCursor(listOrder(sort), 'e30'), undefined);
    });

    it('a cursor made for another order, or garbage, decodes to nothing', async () => {
      const { readDb, dialect } = t.engine.database;
      const byName: JobSort[] = [{ field: 'name', direction: 'asc' }];
      const page = await listJobPage(readDb, dialect, {}, byName, { limit: 2, offset: 0 });
      assert.ok(page.next);
      assert.ok(decodeCursor(listOrder(byName), page.next));
      assert.equal(
        decodeCursor(listOrder([{ field: 'name', direction: 'desc' }]), page.next),
        undefined,
      );
      assert.equal(decodeCursor(listOrder(byName), 'not a cursor'), undefined);
    });

    it('the read connection sees every committed write', async () => {
      const { readDb, dialect } = t.engine.database;
      const before = await listJobs(readDb, dialect, {}, [], { limit: 1, offset: 0 });
      const id = await submit(t.engine.ctx, { name: 'fresh' });
      const afterSubmit = await listJobs(
        readDb,
        dialect,
        {},
        [{ field: 'id', direction: 'desc' }],
        {
          limit: 1,
          offset: 0,
        },
      );
      assert.equal(afterSubmit.total, before.total + 1);
      assert.equal(afterSubmit.rows[0]?.id, id);
    });

    if (database.name === 'sqlite') {
      it('the read connection of SQLite refuses writes', async () => {
        await assert.rejects(sql`delete from jobs`.execute(t.engine.database.readDb), /readonly/);
      });
    }
  });

  describe(`job-name search (${database.name})`, () => {
    let t: TestEngine;
    const ids: Record<string, number> = {};
    before(async () => {
      t = await startTestEngine(database);
      for (const name of ['Shot_10%_Final', 'shotX10a_final', 'say "hi" now', 'ab', 'other']) {
        ids[name] = await submit(t.engine.ctx, { name });
      }
    });
    after(async () => {
      await t?.close();
    });

    it('finds a case-insensitive substring, with % and _ taken literally', async () => {
      assert.deepEqual(await searchIds(t, 'shot_10%'), [ids['Shot_10%_Final']]);
      assert.deepEqual(await searchIds(t, 'SHOT'), [ids['Shot_10%_Final'], ids['shotX10a_final']]);
      assert.deepEqual(await searchIds(t, '_final'), [
        ids['Shot_10%_Final'],
        ids['shotX10a_final'],
      ]);
      assert.deepEqual(await searchIds(t, '"hi"'), [ids['say "hi" now']]);
      assert.deepEqual(await searchIds(t, 'zzz'), []);
    });

    it('text shorter than three characters still matches (by a scan)', async () => {
      assert.deepEqual(await searchIds(t, 'AB'), [ids['ab']]);
      assert.deepEqual(await searchIds(t, '%'), [ids['Shot_10%_Final']]);
    });

    it('follows renames and purges', async () => {
      const id = await submit(t.engine.ctx, { name: 'before_rename' });
      assert.deepEqual(await searchIds(t, 'before_ren'), [id]);
      await updateJobSettings(t.engine.ctx, id, { name: 'after_rename' });
      assert.deepEqual(await searchIds(t, 'before_ren'), []);
      assert.deepEqual(await searchIds(t, 'after_ren'), [id]);
      await deleteJob(t.engine.ctx, id);
      assert.deepEqual(await searchIds(t, 'after_ren'), []);
      assert.deepEqual(await searchIds(t, 'after_ren', 'include'), [id]);
      await purgeJob(t.engine.ctx, id);
      assert.deepEqual(await searchIds(t, 'after_ren', 'include'), []);
    });

    it('the database has its trigram index', async () => {
      const { db, dialect } = t.engine.database;
      if (dialect === 'sqlite') {
        const fts = await sql<{ n: number }>`
          select count(*) as n from jobs_name_fts where jobs_name_fts match '"final"'`.execute(db);
        assert.equal(Number(fts.rows[0]?.n), 2);
      } else {
        const index = await sql<{ indexdef: string }>`
          select indexdef from pg_indexes
          where schemaname = current_schema() and indexname = 'jobs_name_trgm'`.execute(db);
        assert.match(index.rows[0]?.indexdef ?? '', /gin \(lower\(name\) \S*gin_trgm_ops\)/);
      }
    });
  });

  describe(`job-list totals (${database.name})`, () => {
    let t: TestEngine;
    const limit = exactTotalLimit(database.name);
    before(async () => {
      t = await startTestEngine(database);
      const id = await submit(t.engine.ctx, { name: 'many', pool: 'bulk' });
      await submit(t.engine.ctx, { name: 'few', pool: 'rare' });
      // The limit + 50 copies of one job row, in one statement.
      const row = await t.engine.database.db
        .selectFrom('jobs')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      const columns = Object.keys(row).filter((c) => c !== 'id');
      const list = sql.join(columns.map((c) => sql.ref(c)));
      await sql`
        with recursive n(i) as (select 1 union all select i + 1 from n where i < ${limit + 50})
        insert into jobs (${list}) select ${list} from jobs, n where jobs.id = ${id}`.execute(
        t.engine.database.db,
      );
    });
    after(async () => {
      await t?.close();
    });

    const total = async (filter: JobFilter) => {
      const { readDb, dialect } = t.engine.database;
      const page = await listJobs(readDb, dialect, filter, [], { limit: 10, offset: 0 });
      assert.equal(page.rows.length, Math.min(10, page.total));
      return { total: page.total, exact: page.totalExact };
    };

    it('is exact up to the limit', async () => {
      assert.deepEqual(await total({ pools: ['rare'] }), { total: 1, exact: true });
      assert.deepEqual(await total({ text: 'few' }), { total: 1, exact: true });
    });

    it('above the limit, is an estimate of at least the limit + 1', async () => {
      for (const filter of [{ pools: ['bulk'] }, { text: 'many' }] as JobFilter[]) {
        const { total: n, exact } = await total(filter);
        assert.equal(exact, false, JSON.stringify(filter));
        assert.ok(n >= limit + 1, `${n} for ${JSON.stringify(filter)}`);
        if (database.name === 'sqlite') assert.equal(n, limit + 1);
      }
    });

    it('filtered by state alone, or not at all, is exact at any size (the job tallies)', async () => {
      const all = limit + 52;
      assert.deepEqual(await total({}), { total: all, exact: true });
      assert.deepEqual(await total({ deleted: 'exclude' }), { total: all, exact: true });
      assert.deepEqual(await total({ states: ['QUEUED', 'FAILED'] }), { total: all, exact: true });
      assert.deepEqual(await total({ states: ['FAILED'] }), { total: 0, exact: true });
      // Deleted jobs are not tallied: counted, and capped, as any other filter.
      assert.deepEqual(await total({ deleted: 'only' }), { total: 0, exact: true });
    });
  });
}
