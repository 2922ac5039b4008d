import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import type { DroverEvent } from '../../src/engine/events/events.js';
import { submitJob } from '../../src/engine/jobs/job-submission.js';
import { registerNode } from '../../src/engine/nodes/node-registry.js';
import { findJob } from '../../src/store/jobs.js';
import { findTaskByIndex, listTasks } from '../../src/store/tasks.js';
import { TEST_DATABASES, startTestEngine } from '../helpers/databases.js';

const N = 100_000;

for (const database of TEST_DATABASES) {
  describe(`submitting a job of ${N} tasks (${database.name})`, () => {
    it('creates every task row in one transaction, with the counters right', async () => {
      const t = await startTestEngine(database);
      try {
        const { ctx, dispatcher } = t.engine;
        const events: DroverEvent[] = [];
        const unsubscribe = ctx.bus.subscribe((e) => events.push(e));
        const jobId = await submitJob(ctx, {
          type: 'command-line',
          user: 'alice',
          frames: `1-${N}`,
          chunkSize: 1,
          parameters: { executable: 'echo' },
        });

        const job = await findJob(ctx.db, jobId);
        assert.ok(job);
        assert.equal(job.state, 'QUEUED');
        assert.equal(job.task_count, N);
        assert.equal(job.tasks_queued, N);
        assert.equal(job.tasks_pending, 0);
        assert.equal(job.tasks_running, 0);
        assert.equal(job.tasks_suspended, 0);
        assert.equal(job.tasks_completed, 0);
        assert.equal(job.tasks_failed, 0);
        assert.equal(job.tasks_canceled, 0);
        assert.equal(job.frames, `1-${N}`);

        const stats = await ctx.db
          .selectFrom('tasks')
          .select((eb) => [
            eb.fn.countAll<number>().as('n'),
            eb.fn.count<number>('task_index').distinct().as('indexes'),
            eb.fn.min<number>('task_index').as('minIndex'),
            eb.fn.max<number>('task_index').as('maxIndex'),
            eb.fn.min<number>('frame_start').as('minFrame'),
            eb.fn.max<number>('frame_end').as('maxFrame'),
            eb.fn
              .sum<number>(sql<number>`case when state = 'QUEUED' then 1 else 0 end`)
              .as('queued'),
            eb.fn
              .sum<number>(
                sql<number>`case when frame_start = frame_end and frame_start = task_index + 1 then 1 else 0 end`,
              )
              .as('oneFrameEach'),
            eb.fn.max<number>('tries').as('maxTries'),
          ])
          .where('job_id', '=', jobId)
          .executeTakeFirstOrThrow();
        assert.deepEqual(
          Object.fromEntries(Object.entries(stats).map(([k, v]) => [k, Number(v)])),
          {
            n: N,
            indexes: N,
            minIndex: 0,
            maxIndex: N - 1,
            minFrame: 1,
            maxFrame: N,
            queued: N,
            oneFrameEach: N,
            maxTries: 0,
          },
        );
        assert.equal((await listTasks(ctx.db, jobId, { limit: 1, offset: 0 })).total, N);
        const first = await findTaskByIndex(ctx.db, jobId, 0);
        const last = await findTaskByIndex(ctx.db, jobId, N - 1);
        assert.equal(first?.frames, '1-1');
        assert.equal(last?.frames, `${N}-${N}`);
        assert.equal(last?.frame_start, N);

        if (database.name === 'postgres') {
          // Rows written by one transaction share its id (xmin): the job and all its tasks.
          const { rows } = await sql<{ n: number }>`
            select count(distinct t.xmin::text) as n
            from tasks t where t.job_id = ${jobId}
            and t.xmin::text = (select j.xmin::text from jobs j where j.id = ${jobId})`.execute(
            ctx.db,
          );
          const distinct = await sql<{ n: number }>`
            select count(distinct xmin::text) as n from tasks where job_id = ${jobId}`.execute(
            ctx.db,
          );
          assert.equal(Number(distinct.rows[0]!.n), 1, 'all tasks written by one transaction');
          assert.equal(Number(rows[0]!.n), 1, 'the same transaction as the job row');
        }

        // One job.created event for the whole submission.
        const until = Date.now() + 3000;
        while (!events.some((e) => e.type === 'job.created') && Date.now() < until) {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        unsubscribe();
        assert.deepEqual(
          events.filter((e) => 'jobId' in e && e.jobId === jobId).map((e) => e.type),
          ['job.created'],
        );

        // And the first task of the big job is dispatched in order.
        const node = await registerNode(ctx, { name: 'n1' });
        const got = await dispatcher.tryAcquire(node.id);
        assert.equal(got?.execution.task_id, first?.id);
        const after = await findJob(ctx.db, jobId);
        assert.equal(after?.tasks_queued, N - 1);
        assert.equal(after?.tasks_running, 1);
      } finally {
        await t.close();
      }
    });

    it('a submission that fails at its last task leaves no job and no tasks behind', async () => {
      const t = await startTestEngine(database);
      try {
        const { ctx } = t.engine;
        // A trigger refuses the very last task row, after 99 batches went in.
        if (database.name === 'postgres') {
          await sql`create function refuse_last_task() returns trigger language plpgsql as $$
            begin
              if new.task_index = ${sql.lit(N - 1)} then raise exception 'refused by test trigger'; end if;
              return new;
            end $$`.execute(ctx.db);
          await sql`create trigger refuse_last_task before insert on tasks
            for each row execute function refuse_last_task()`.execute(ctx.db);
        } else {
          await sql`create trigger refuse_last_task before insert on tasks
            when new.task_index = ${sql.lit(N - 1)}
            begin select raise(abort, 'refused by test trigger'); end`.execute(ctx.db);
        }
        await assert.rejects(
          submitJob(ctx, {
            type: 'command-line',
            user: 'alice',
            frames: `1-${N}`,
            parameters: { executable: 'echo' },
          }),
          /refused by test trigger/,
        );
        const jobs = await ctx.db.selectFrom('jobs').select('id').execute();
        const tasks = await ctx.db.selectFrom('tasks').select('id').execute();
        assert.equal(jobs.length, 0, 'no job row');
        assert.equal(tasks.length, 0, 'no task row of the earlier batches');
      } finally {
        await t.close();
      }
    });
  });
}
