import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CompiledQuery, sql } from 'kysely';
import { startExecution } from '../../src/engine/executions/execution-reports.js';
import { reportProgress } from '../../src/engine/executions/progress-reports.js';
import { submitJob } from '../../src/engine/jobs/job-submission.js';
import { nodeHeartbeat, registerNode } from '../../src/engine/nodes/node-registry.js';
import { takeStatementCounts } from '../../src/store/statement-counts.js';
import { TEST_DATABASES, startTestEngine, type TestEngine } from '../helpers/databases.js';
import { eventually } from '../helpers/eventually.js';

/*
 * Migration 0021: liveness is indexed by `ended_at is null` (executions_live), and neither
 * `state` nor `lease_expires_at` is in any index of executions, so that a start, a lease
 * renewal and a progress report write no index (on PostgreSQL: HOT updates). These tests
 * fail if a query of a node's live executions or of expired leases stops reaching the
 * partial index, or if an index on a column that live updates change comes back.
 */

/** The statements the engine ran since the last call, with the parameters they ran with. */
function ranSince(): [string, readonly unknown[]][] {
  return [...takeStatementCounts()].map(([text, c]) => [text, c.parameters]);
}

function statementLike(ran: [string, readonly unknown[]][], ...parts: string[]) {
  const found = ran.find(([text]) => parts.every((p) => text.includes(p)));
  assert.ok(found, `no statement ran with ${parts.join(' … ')}`);
  return found;
}

async function planOf(t: TestEngine, text: string, parameters: readonly unknown[]) {
  const { ctx } = t.engine;
  const explain = (prefix: string) => CompiledQuery.raw(`${prefix} ${text}`, [...parameters]);
  if (ctx.dialect === 'sqlite') {
    const { rows } = await ctx.db.executeQuery(explain('explain query plan'));
    return rows.map((r) => (r as { detail: string }).detail).join('\n');
  }
  // PostgreSQL's planner scans a table of a few rows rather than use any index: told not
  // to, it shows whether the index can serve the query at all.
  return ctx.db.transaction().execute(async (tx) => {
    await sql`set local enable_seqscan = off`.execute(tx);
    const { rows } = await tx.executeQuery(explain('explain'));
    return rows.map((r) => (r as { 'QUERY PLAN': string })['QUERY PLAN']).join('\n');
  });
}

for (const database of TEST_DATABASES) {
  describe(`live executions by a partial index (${database.name})`, () => {
    it('a claim counts a node’s live executions, and the reaper finds expired leases, through executions_live', async () => {
      process.env.DROVER_COUNT_STATEMENTS = '1';
      const t = await startTestEngine(database);
      delete process.env.DROVER_COUNT_STATEMENTS;
      try {
        const { ctx, dispatcher, reaper } = t.engine;
        await submitJob(ctx, {
          type: 'command-line',
          user: 'alice',
          frames: '1-3',
          parameters: { executable: 'echo' },
        });
        const node = await registerNode(ctx, { name: 'a', slots: 2 });
        ranSince();
        assert.ok(await dispatcher.tryAcquire(node.id));
        await reaper.tick();
        const ran = ranSince();
        const indexes = /executions_live/;
        if (ctx.dialect === 'sqlite') {
          const [claimText, claimParams] = statementLike(ran, 'from "executions" as "x"', 'live');
          assert.match(await planOf(t, claimText, claimParams), indexes);
        }
        // PostgreSQL counts a node's live executions inside drover_claim (checked below).
        const [reapText, reapParams] = statementLike(ran, '"lease_expires_at" <', 'ended_at');
        assert.match(await planOf(t, reapText, reapParams), indexes);
      } finally {
        await t.close();
      }
    });

    it('no index of executions holds state or the lease: starts and renewals change no indexed column', async () => {
      const t = await startTestEngine(database);
      try {
        const { ctx } = t.engine;
        const columns =
          ctx.dialect === 'sqlite'
            ? await sql<{ name: string; columns: string; partial: string | null }>`
                select il.name as name,
                  (select group_concat(ii.name) from pragma_index_info(il.name) ii) as columns,
                  (select sql from sqlite_master m where m.name = il.name) as partial
                from pragma_index_list('executions') il
              `.execute(ctx.db)
            : await sql<{ name: string; columns: string; partial: string | null }>`
                select c.relname as name,
                  (select string_agg(a.attname, ',') from pg_attribute a
                    where a.attrelid = i.indrelid and a.attnum = any(i.indkey)) as columns,
                  pg_get_expr(i.indpred, i.indrelid) as partial
                from pg_index i join pg_class c on c.oid = i.indexrelid
                where i.indrelid = (quote_ident(current_schema()) || '.executions')::regclass
              `.execute(ctx.db);
        const names = columns.rows.map((r) => r.name);
        assert.ok(names.includes('executions_live'), `indexes: ${names.join(', ')}`);
        for (const { name, columns: cols, partial } of columns.rows) {
          const used = `${cols ?? ''} ${partial ?? ''}`;
          for (const changed of ['state', 'lease_expires_at', 'progress', 'last_heartbeat']) {
            assert.doesNotMatch(used, new RegExp(`\\b${changed}\\b`), `${name} holds ${changed}`);
          }
        }
        if (ctx.dialect === 'postgres') {
          const def = async (name: string): Promise<string> =>
            (
              await sql<{ def: string }>`
                select pg_get_functiondef(p.oid) as def from pg_proc p
                where p.proname = ${name} and p.pronamespace = current_schema()::regnamespace
              `.execute(ctx.db)
            ).rows[0]!.def;
          const live = /x\.ended_at is null\s+and x\.state in/g;
          // A node's live count, and a machine limit's two counts in the walk's check
          // (migration 0030), written twice (one loop for each kind of page, 0044). The look's
          // two counts of a machine limit are in drover_job_admits since 0050, which six looks
          // call (the ordinary page and the heads of other share holders, 0042; the
          // preferring claim's page, its named jobs and their children, 0044; the page of a
          // farm where no pool shares, 0048).
          assert.equal((await def('drover_claim')).match(live)?.length, 1 + 2 * 2);
          assert.equal((await def('drover_job_admits')).match(live)?.length, 2);
        }
      } finally {
        await t.close();
      }
    });

    if (database.name === 'postgres') {
      it('a start, heartbeats and progress of live executions are HOT updates', async () => {
        const t = await startTestEngine(database);
        try {
          const { ctx, settings, dispatcher } = t.engine;
          await submitJob(ctx, {
            type: 'command-line',
            user: 'alice',
            frames: '1-4',
            parameters: { executable: 'echo' },
          });
          const node = await registerNode(ctx, { name: 'a', slots: 4 });
          const ids = (await dispatcher.tryClaim(node.id, { max: 4 })).map((a) => a.execution.id);
          assert.equal(ids.length, 4);
          const before = await updateCounts(t);
          t.clock.advance(1000);
          await startExecution(ctx, settings, ids[0]!, node.id);
          await startExecution(ctx, settings, ids[1]!, node.id);
          assert.deepEqual(await nodeHeartbeat(ctx, settings, node.id, ids), { stop: [] });
          t.clock.advance(1000);
          assert.deepEqual(await nodeHeartbeat(ctx, settings, node.id, ids), { stop: [] });
          await reportProgress(ctx, settings, ids[0]!, node.id, 40);
          // Backends hand their table statistics in when idle, within a second or so.
          let after = before;
          await eventually(async () => {
            after = await updateCounts(t);
            assert.ok(after.upd - before.upd >= 11, `updates so far: ${after.upd - before.upd}`);
          });
          assert.equal(after.hot - before.hot, after.upd - before.upd, 'every update was HOT');
        } finally {
          await t.close();
        }
      });
    }
  });
}

/** Updates of executions so far, and how many of them were HOT (PostgreSQL). */
async function updateCounts(t: TestEngine): Promise<{ upd: number; hot: number }> {
  // A fresh snapshot of the statistics each time: a transaction would keep its first one.
  const { rows } = await sql<{ upd: string; hot: string }>`
    select n_tup_upd as upd, n_tup_hot_upd as hot,
      pg_stat_clear_snapshot() is null as cleared
    from pg_stat_user_tables
    where relid = (quote_ident(current_schema()) || '.executions')::regclass
  `.execute(t.engine.ctx.db);
  return { upd: Number(rows[0]!.upd), hot: Number(rows[0]!.hot) };
}
