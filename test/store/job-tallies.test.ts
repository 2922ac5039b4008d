import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql, type Kysely } from 'kysely';
import { completeExecution } from '../../src/engine/executions/execution-reports.js';
import { applyJobAction } from '../../src/engine/jobs/job-actions.js';
import { deleteJob, purgeJob, undeleteJob } from '../../src/engine/jobs/job-deletion.js';
import { submitJob } from '../../src/engine/jobs/job-submission.js';
import { registerNode } from '../../src/engine/nodes/node-registry.js';
import type { Executor } from '../../src/store/database.js';
import { foldJobTallies, jobTallies } from '../../src/store/job-tallies.js';
import { listRows, type Condition } from '../../src/store/list-query/index.js';
import { jobTalliesSchema } from '../../src/store/migrations/0049-job-tallies.js';
import { TEST_DATABASES, startTestEngine } from '../helpers/databases.js';

/*
 * Migration 0049's tallies must equal count(*) of the live jobs in each state after every
 * kind of write: a submit, a claim and a finish, each job action, a soft delete and its
 * undo, a purge, bulk inserts, updates and deletes of live and deleted rows. Scale's
 * status-only totals read nothing else (test/api/scale/v6-job-list.test.ts).
 */

async function counted(db: Executor): Promise<Record<string, number>> {
  const { rows } = await sql<{ state: string; n: number | string }>`
    select state, count(*) as n from jobs where deleted_at is null group by state`.execute(db);
  return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
}

async function tallied(db: Executor): Promise<Record<string, number>> {
  const tallies = await jobTallies(db);
  return Object.fromEntries([...tallies].filter(([, n]) => n !== 0));
}

async function deltaRows(db: Executor): Promise<number> {
  const { rows } = await sql<{ n: number | string }>`
    select count(*) as n from job_tally_deltas`.execute(db);
  return Number(rows[0]!.n);
}

for (const database of TEST_DATABASES) {
  describe(`job tallies (${database.name})`, () => {
    it('equal count(*) of the live jobs in each state after every kind of write, before and after a fold', async () => {
      const t = await startTestEngine(database);
      try {
        const { ctx, dispatcher, settings } = t.engine;
        const agree = async (step: string) =>
          assert.deepEqual(await tallied(ctx.db), await counted(ctx.db), step);
        const submit = (frames: string) =>
          submitJob(ctx, {
            type: 'command-line',
            user: 'alice',
            frames,
            parameters: { executable: 'echo' },
          });
        const jobs = [];
        for (const frames of ['1-3', '1', '1-2', '1', '1-4']) jobs.push(await submit(frames));
        await agree('after the submits');

        const node = await registerNode(ctx, { name: 'a', slots: 4 });
        const claimed = await dispatcher.tryClaim(node.id, { max: 2 });
        assert.equal(claimed.length, 2);
        await agree('after a claim started a job');
        for (const c of claimed) await completeExecution(ctx, settings, c.execution.id, node.id, 0);
        await agree('after the finishes');

        const [a, b, c, d, e] = jobs as [number, number, number, number, number];
        await applyJobAction(ctx, b, 'suspend');
        await agree('after suspend');
        await applyJobAction(ctx, b, 'resume');
        await applyJobAction(ctx, c, 'cancel');
        await applyJobAction(ctx, d, 'fail', { name: 'test', message: 'failed by the test' });
        await agree('after resume, cancel and fail');
        await applyJobAction(ctx, d, 'requeue');
        await agree('after requeue');

        await deleteJob(ctx, e);
        await agree('after a soft delete');
        await undeleteJob(ctx, e);
        await agree('after it came back');
        await deleteJob(ctx, a);
        await purgeJob(ctx, a);
        await agree('after a purge');

        // Many rows in one statement (PostgreSQL counts them per statement): three copies of
        // each job, the second COMPLETED, the third deleted.
        const one = (await sql<Record<string, unknown>>`select * from jobs limit 1`.execute(ctx.db))
          .rows[0]!;
        const made: Record<string, string> = {
          name: `j.name || '-copy-' || k.k`,
          state: `case when k.k = 2 then 'COMPLETED' else j.state end`,
          deleted_at: `case when k.k = 3 then 1 else null end`,
        };
        const columns = Object.keys(one).filter((c) => c !== 'id');
        await sql`insert into jobs (${sql.join(columns.map((c) => sql.id(c)))})
          select ${sql.join(columns.map((c) => sql.raw(made[c] ?? `j.${c}`)))}
          from jobs j, (select 1 as k union all select 2 union all select 3) k`.execute(ctx.db);
        await agree('after a bulk insert');
        await sql`update jobs set state = 'CANCELED' where name like '%-copy-2'`.execute(ctx.db);
        await sql`update jobs set deleted_at = 5 where name like '%-copy-1'`.execute(ctx.db);
        await agree('after bulk updates of the state and of deletion');
        // A live row deleted outright, and a soft-deleted one (the tally never had it).
        await sql`delete from jobs where name like '%-copy-2' or name like '%-copy-3'`.execute(
          ctx.db,
        );
        await agree('after a bulk delete');

        const deltas = await deltaRows(ctx.db);
        if (ctx.dialect === 'sqlite') assert.equal(deltas, 0, 'SQLite adds to the tallies');
        else assert.ok(deltas > 0, 'PostgreSQL appends deltas');
        assert.equal(await foldJobTallies(ctx.db), deltas);
        assert.equal(await deltaRows(ctx.db), 0);
        assert.equal(await foldJobTallies(ctx.db), 0, 'nothing left to fold');
        await agree('after the fold');
        await t.engine.reaper.tick();
        await agree('after a reaper tick');
      } finally {
        await t.close();
      }
    });

    it('the migration counts the jobs already there', async () => {
      const t = await startTestEngine(database);
      try {
        const { ctx } = t.engine;
        for (const frames of ['1', '1-2', '1-3']) {
          await submitJob(ctx, {
            type: 'command-line',
            user: 'bob',
            frames,
            parameters: { executable: 'echo' },
          });
        }
        const job = (await sql<{ id: number }>`select min(id) as id from jobs`.execute(ctx.db))
          .rows[0]!;
        await applyJobAction(ctx, Number(job.id), 'cancel');
        const expected = await counted(ctx.db);
        // Back to before 0049 (later migrations have run, so the migrator would refuse an
        // earlier one), then its step again.
        if (ctx.dialect === 'postgres') {
          for (const [trigger, fn] of [
            ['jobs_tally_insert', 'drover_tally_inserted'],
            ['jobs_tally_delete', 'drover_tally_deleted'],
            ['jobs_tally_update', 'drover_tally_updated'],
          ] as const) {
            await sql`drop trigger ${sql.id(trigger)} on jobs`.execute(ctx.db);
            await sql`drop function ${sql.id(fn)}()`.execute(ctx.db);
          }
        } else {
          for (const trigger of [
            'jobs_tally_insert',
            'jobs_tally_delete',
            'jobs_tally_leave',
            'jobs_tally_enter',
          ]) {
            await sql`drop trigger ${sql.id(trigger)}`.execute(ctx.db);
          }
        }
        await sql`drop table job_tallies`.execute(ctx.db);
        await sql`drop table job_tally_deltas`.execute(ctx.db);
        await sql`drop index jobs_live_state_modified`.execute(ctx.db);
        await jobTalliesSchema(ctx.dialect).up(ctx.db as unknown as Kysely<unknown>);
        assert.deepEqual(await tallied(ctx.db), expected);
        assert.equal(await deltaRows(ctx.db), 0);
      } finally {
        await t.close();
      }
    });

    it('count a list filtered by state from the tallies, and branches that overlap them once', async () => {
      const t = await startTestEngine(database);
      try {
        const { ctx } = t.engine;
        const jobs: number[] = [];
        for (const [user, priority] of [
          ['alice', 10],
          ['alice', 60],
          ['bob', 60],
          ['bob', 10],
          ['carol', 60],
          ['carol', 10],
        ] as const) {
          jobs.push(
            await submitJob(ctx, {
              type: 'command-line',
              user,
              priority,
              frames: '1',
              parameters: { executable: 'echo' },
            }),
          );
        }
        for (const id of jobs.slice(0, 3)) await applyJobAction(ctx, id, 'complete');
        await applyJobAction(ctx, jobs[3]!, 'fail', { name: 'test', message: 'failed' });
        await deleteJob(ctx, jobs[1]!);

        const live: Condition = { isNull: { field: 'deleted_at' } };
        const state = (s: string): Condition => ({
          compare: { field: 'state' },
          op: '=',
          to: { literal: s },
        });
        const user = (u: string): Condition => ({
          compare: { field: 'user_name' },
          op: '=',
          to: { literal: u },
        });
        const filters: Record<string, Condition> = {
          all: { and: [live] },
          states: { and: [live, { in: { field: 'state' }, values: ['QUEUED', 'COMPLETED'] }] },
          // alice's COMPLETED jobs are COMPLETED too; bob's are in any state.
          overlapping: {
            and: [
              live,
              {
                or: [
                  { and: [state('COMPLETED')] },
                  { and: [state('COMPLETED'), user('alice')] },
                  user('bob'),
                ],
              },
            ],
          },
          refined: {
            and: [
              live,
              {
                or: [
                  state('FAILED'),
                  {
                    and: [
                      state('QUEUED'),
                      { compare: { field: 'priority' }, op: '>', to: { literal: 40 } },
                    ],
                  },
                ],
              },
            ],
          },
        };
        const counts = async () => {
          const found: Record<string, number> = {};
          for (const [name, where] of Object.entries(filters)) {
            const page = await listRows(ctx.db, ctx.dialect, 'jobs', {
              where,
              count: true,
              page: { limit: 1 },
            });
            assert.equal(page.totalExact, true, name);
            found[name] = page.total!;
          }
          return found;
        };
        const expected: Record<string, number> = {};
        for (const [name, where] of Object.entries(filters)) {
          expected[name] = (await listRows(ctx.db, ctx.dialect, 'jobs', { where })).rows.length;
        }
        assert.deepEqual(expected, { all: 5, states: 4, overlapping: 3, refined: 2 });
        assert.deepEqual(await counts(), expected);
        // The totals are the tallies': a tally moved by hand moves them (and nothing else).
        await sql`insert into job_tally_deltas (state, n) values ('COMPLETED', 1000)`.execute(
          ctx.db,
        );
        assert.deepEqual(await counts(), {
          all: 1005,
          states: 1004,
          overlapping: 1003,
          refined: 2,
        });
      } finally {
        await t.close();
      }
    });
  });
}
