import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EngineContext } from '../../src/engine/context.js';
import { applyJobAction } from '../../src/engine/jobs/job-actions.js';
import { submitJob } from '../../src/engine/jobs/job-submission.js';
import {
  LIST_QUERY_BOUNDS,
  ListQueryError,
  listRows,
  type Condition,
  type Scalar,
} from '../../src/store/list-query/index.js';
import type { JobRow } from '../../src/store/schema.js';
import { TEST_DATABASES, startTestEngine, type TestEngine } from '../helpers/databases.js';

/* The store's one list query: its filter tree, its bounds and its keyset pages. */

const submit = (ctx: EngineContext, name: string, priority: number): Promise<number> =>
  submitJob(ctx, {
    type: 'command-line',
    user: 'alice',
    name,
    priority,
    parameters: { executable: 'echo' },
  });

for (const database of TEST_DATABASES) {
  describe(`the store's list query (${database.name})`, () => {
    let t: TestEngine;
    let ids: number[];
    before(async () => {
      t = await startTestEngine(database);
      const ctx = t.engine.ctx;
      ids = [];
      for (let i = 0; i < 7; i++) ids.push(await submit(ctx, `Shot_${i}%_x`, 10 + (i % 3)));
      await applyJobAction(ctx, ids[1]!, 'suspend');
    });
    after(async () => t.close());

    const list = (q: Parameters<typeof listRows>[3]) =>
      listRows<JobRow>(t.engine.ctx.db, t.engine.ctx.dialect, 'jobs', q);

    it('filters with and, or, not, in, contains, and counts the matches', async () => {
      const where: Condition = {
        and: [
          {
            or: [{ in: { field: 'id' }, values: ids.slice(0, 4) }, { holds: 'dependency_failed' }],
          },
          { not: { compare: { field: 'state' }, op: '=', to: { literal: 'SUSPENDED' } } },
          // Taken literally: % is no wildcard, and case counts.
          { contains: { field: 'name' }, needle: { literal: '%_x' } },
        ],
      };
      const found = await list({ where, count: true });
      assert.deepEqual(
        found.rows.map((r) => Number(r.id)),
        [ids[0], ids[2], ids[3]],
      );
      assert.equal(found.total, 3);
      const none = await list({
        where: { contains: { field: 'name' }, needle: { literal: 'shot' } },
      });
      assert.deepEqual(none.rows, []);
      const empty = await list({ where: { in: { field: 'id' }, values: [] } });
      assert.deepEqual(empty.rows, [], 'an empty in list matches nothing');
    });

    it('pages by key through an order of never-null fields, as offsets would', async () => {
      const order = [{ by: { field: 'priority' }, direction: 'desc' as const }];
      const byOffset = (await list({ order })).rows.map((r) => Number(r.id));
      assert.equal(byOffset.length, ids.length);
      const walked: number[] = [];
      let after: readonly Scalar[] | undefined;
      for (let pages = 0; pages < 10; pages++) {
        const page = await list({ order, page: { limit: 2, ...(after ? { after } : {}) } });
        walked.push(...page.rows.map((r) => Number(r.id)));
        for (const row of page.rows) {
          assert.deepEqual(
            Object.keys(row).filter((k) => k.startsWith('_drover')),
            [],
            'a page row is the job row only',
          );
        }
        if (!page.next) break;
        assert.equal(page.rows.length, 2, 'only a full page has a next');
        after = page.next;
      }
      assert.deepEqual(walked, byOffset);
      // A key of a joined table is read as an extra column and taken off the rows again.
      const joined = [{ by: { field: 'job_type.name' }, direction: 'asc' as const }];
      const joinedByOffset = (await list({ order: joined })).rows.map((r) => Number(r.id));
      const joinedWalk: number[] = [];
      after = undefined;
      for (let pages = 0; pages < 10; pages++) {
        const page = await list({ order: joined, page: { limit: 3, ...(after ? { after } : {}) } });
        joinedWalk.push(...page.rows.map((r) => Number(r.id)));
        assert.ok(page.rows.every((r) => !Object.keys(r).some((k) => k.startsWith('_drover'))));
        if (!page.next) break;
        after = page.next;
      }
      assert.deepEqual(joinedWalk, joinedByOffset);
      const nullable = await list({
        order: [{ by: { field: 'started_at' }, direction: 'asc' }],
        page: { limit: 2 },
      });
      assert.equal(nullable.next, undefined, 'a nullable key pages by offset only');
    });

    it('refuses a tree too deep, too wide or too large, with the bound in the message', async () => {
      let deep: Condition = { isNull: { field: 'parent_id' } };
      for (let i = 0; i < LIST_QUERY_BOUNDS.depth + 1; i++) deep = { not: deep };
      await assert.rejects(list({ where: deep }), (e: Error) => {
        assert.ok(e instanceof ListQueryError);
        assert.match(e.message, new RegExp(`at most ${LIST_QUERY_BOUNDS.depth} deep`));
        return true;
      });
      const wide = Array.from({ length: LIST_QUERY_BOUNDS.width + 1 }, (_, i) => i);
      await assert.rejects(
        list({ where: { in: { field: 'id' }, values: wide } }),
        /at most 1000 items/,
      );
      const many: Condition = {
        and: Array.from({ length: 3 }, () => ({
          in: { field: 'id' },
          values: Array.from({ length: 900 }, (_, i) => i),
        })),
      };
      await assert.rejects(list({ where: many }), /at most 2000 conditions and values/);
      await assert.rejects(
        list({ where: { isNull: { field: 'no_such_field' } } }),
        /jobs have no field no_such_field/,
      );
    });
  });
}
