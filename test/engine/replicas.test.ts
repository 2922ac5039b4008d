import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import { inTransaction } from '../../src/engine/context.js';
import { startEngine, type Engine } from '../../src/engine/engine.js';
import { EVENTS_APPLICATION_NAME, notifyChannel } from '../../src/engine/events/event-bus.js';
import type { DroverEvent } from '../../src/engine/events/events.js';
import { completeExecution } from '../../src/engine/executions/execution-reports.js';
import { submitJob } from '../../src/engine/jobs/job-submission.js';
import { registerNode } from '../../src/engine/nodes/node-registry.js';
import { JOB_DEFINITION_FORMATS } from '../../src/formats/index.js';
import { findJob } from '../../src/store/jobs.js';
import { TEST_DATABASES, startTestEngine, type TestEngine } from '../helpers/databases.js';
import { eventually } from '../helpers/eventually.js';

/*
 * Several server replicas share one PostgreSQL database: an event from any replica reaches
 * the subscribers of every replica (LISTEN/NOTIFY), and an idle node long-polling on one
 * replica is woken by a submission through another.
 */

const postgres = TEST_DATABASES.find((d) => d.name === 'postgres');

/** Names unique to this run: other runs may share the PostgreSQL server. */
const A = `replica-a-${process.pid}-${randomUUID().slice(0, 8)}`;
const B = `replica-b-${process.pid}-${randomUUID().slice(0, 8)}`;

/** Replica A on a fresh schema, replica B on the same schema and clock. */
async function twoReplicas(): Promise<{ a: Engine; b: Engine; close(): Promise<void> }> {
  const t: TestEngine = await startTestEngine(postgres!, { replicaName: A });
  let b: Engine;
  try {
    b = await startEngine({
      url: t.engine.database.url,
      schema: t.engine.database.schema!,
      replicaName: B,
      clock: t.clock.read,
      formats: JOB_DEFINITION_FORMATS,
    });
  } catch (error) {
    await t.close();
    throw error;
  }
  // Each sends its events to the other once it has heard that the other listens (B's hello,
  // A's answer): a moment after B's start.
  try {
    await eventually(() =>
      assert.ok(
        t.engine.ctx.bus.peersListening && b.ctx.bus.peersListening,
        'the replicas never heard each other',
      ),
    );
  } catch (error) {
    await b.close();
    await t.close();
    throw error;
  }
  return {
    a: t.engine,
    b,
    async close() {
      await b.close();
      await t.close();
    },
  };
}

const spec = { type: 'command-line', user: 'alice', parameters: { executable: 'echo' } };

/** Resolves with the first event matching `match`, or rejects after `ms`. */
function nextEvent(
  engine: Engine,
  match: (e: DroverEvent) => boolean,
  ms = 5000,
): Promise<DroverEvent & { at: number }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`no matching event within ${ms} ms`));
    }, ms);
    const unsubscribe = engine.ctx.bus.subscribe((event) => {
      if (!match(event)) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(event);
    });
  });
}

describe(
  'replicas on one PostgreSQL database',
  { skip: postgres ? false : 'DROVER_TEST_PG is not set' },
  () => {
    it('a lone replica sends no NOTIFY for its events, and sends them once another says hello', async () => {
      const t = await startTestEngine(postgres!, { replicaName: A });
      const listener = new pg.Client({ connectionString: t.engine.database.url });
      try {
        const channel = notifyChannel(t.engine.database.schema!);
        const payloads: string[] = [];
        listener.on('notification', (n) => payloads.push(n.payload ?? ''));
        const heard = (what: string, match: (payload: string) => boolean) =>
          eventually(() => assert.ok(payloads.some(match), `never heard ${what}`));
        await listener.connect();
        await listener.query(`LISTEN "${channel}"`);
        const emitJob = (jobId: number) =>
          inTransaction(t.engine.ctx, async (_tx, emit) =>
            emit({ type: 'job.state', jobId, from: 'QUEUED', to: 'RUNNING' }),
          );
        await emitJob(3001);
        assert.equal(t.engine.ctx.bus.peersListening, false);
        // What a replica says when it begins listening; the bus answers that it is here.
        await listener.query('select pg_notify($1, $2)', [
          channel,
          JSON.stringify({ o: 'a third replica', p: 'hello' }),
        ]);
        await heard('the bus answer', (p) => p.includes('"p":"here"'));
        assert.equal(t.engine.ctx.bus.peersListening, true);
        await emitJob(3002);
        await heard('the second event', (p) => p.includes('"jobId":3002'));
        // NOTIFYs of one session arrive in the order sent: had the first gone, it came first.
        assert.ok(
          !payloads.some((p) => p.includes('"jobId":3001')),
          `the lone replica sent its event: ${payloads.join(' | ')}`,
        );
      } finally {
        await listener.end();
        await t.close();
      }
    });

    it("name each replica's connections in pg_stat_activity", async () => {
      const r = await twoReplicas();
      try {
        const names = async (engine: Engine) =>
          (
            await sql<{ name: string }>`
              select application_name as name from pg_stat_activity
              where application_name like ${'%replica-_-' + String(process.pid) + '-%'}`.execute(
              engine.ctx.db,
            )
          ).rows.map((row) => row.name);
        // Each engine's own query runs on a connection named for it.
        const own = async (engine: Engine) =>
          (
            await sql<{
              name: string;
            }>`select current_setting('application_name') as name`.execute(engine.ctx.db)
          ).rows[0]!.name;
        assert.equal(await own(r.a), `drover ${A}`);
        assert.equal(await own(r.b), `drover ${B}`);
        const seen = new Set(await names(r.a));
        for (const name of [
          `drover ${A}`,
          `drover ${B}`,
          `drover-events ${A}`,
          `drover-events ${B}`,
        ])
          assert.ok(seen.has(name), `${name} in pg_stat_activity: ${[...seen].join(', ')}`);
      } finally {
        await r.close();
      }
    });

    it('share one schema: a job submitted through A is read through B', async () => {
      const r = await twoReplicas();
      try {
        assert.equal(r.a.database.schema, r.b.database.schema);
        const jobId = await submitJob(r.a.ctx, spec);
        assert.equal((await findJob(r.b.ctx.db, jobId))?.state, 'QUEUED');
      } finally {
        await r.close();
      }
    });

    it('an event of a change made through A reaches a subscriber on B', async () => {
      const r = await twoReplicas();
      try {
        const created = nextEvent(r.b, (e) => e.type === 'job.created');
        const jobId = await submitJob(r.a.ctx, spec);
        const event = await created;
        assert.deepEqual(
          { ...event, at: undefined },
          { type: 'job.created', jobId, state: 'QUEUED', queued: 1, at: undefined },
        );

        // A state change through B reaches A too.
        const node = await registerNode(r.b.ctx, { name: 'n1' });
        const started = nextEvent(r.a, (e) => e.type === 'job.state' && e.jobId === jobId);
        const got = await r.b.dispatcher.tryAcquire(node.id);
        assert.ok(got);
        const state = await started;
        assert.ok(state.type === 'job.state');
        assert.equal(state.from, 'QUEUED');
        assert.equal(state.to, 'RUNNING');
      } finally {
        await r.close();
      }
    });

    it('each replica gets each event exactly once', async () => {
      const r = await twoReplicas();
      try {
        const seenA: DroverEvent[] = [];
        const seenB: DroverEvent[] = [];
        const offA = r.a.ctx.bus.subscribe((e) => seenA.push(e));
        const offB = r.b.ctx.bus.subscribe((e) => seenB.push(e));
        try {
          const jobId = await submitJob(r.a.ctx, spec);
          const node = await registerNode(r.a.ctx, { name: 'n1' });
          const got = await r.a.dispatcher.tryAcquire(node.id);
          await completeExecution(r.b.ctx, r.b.settings, got!.execution.id, node.id);
          const done = (seen: DroverEvent[]) =>
            seen.some((e) => e.type === 'job.state' && e.jobId === jobId && e.to === 'COMPLETED');
          const until = Date.now() + 5000;
          while (!(done(seenA) && done(seenB)) && Date.now() < until) {
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
          await new Promise((resolve) => setTimeout(resolve, 100));
          const jobStates = (seen: DroverEvent[]) =>
            seen
              .filter((e) => e.type === 'job.state')
              .map((e) => (e.type === 'job.state' ? e.to : ''));
          assert.deepEqual(jobStates(seenA), ['RUNNING', 'COMPLETED']);
          assert.deepEqual(jobStates(seenB), ['RUNNING', 'COMPLETED']);
          assert.equal(seenA.length, seenB.length);
        } finally {
          offA();
          offB();
        }
      } finally {
        await r.close();
      }
    });

    it('a rolled-back transaction tells no replica anything', async () => {
      const r = await twoReplicas();
      try {
        const seen: DroverEvent[] = [];
        const offA = r.a.ctx.bus.subscribe((e) => seen.push(e));
        const offB = r.b.ctx.bus.subscribe((e) => seen.push(e));
        try {
          await assert.rejects(
            inTransaction(r.a.ctx, async (_tx, emit) => {
              emit({ type: 'job.state', jobId: 999, from: 'QUEUED', to: 'RUNNING' });
              throw new Error('rolled back');
            }),
            /rolled back/,
          );
          // A later event from the same replica arrives at B: anything sent before it would too.
          const marker = nextEvent(r.b, (e) => e.type === 'job.state' && e.jobId === 1000);
          await inTransaction(r.a.ctx, async (_tx, emit) =>
            emit({ type: 'job.state', jobId: 1000, from: 'QUEUED', to: 'RUNNING' }),
          );
          await marker;
          assert.deepEqual(
            seen
              .filter((e) => e.type === 'job.state')
              .map((e) => e.type === 'job.state' && e.jobId),
            [1000, 1000],
          );
        } finally {
          offA();
          offB();
        }
      } finally {
        await r.close();
      }
    });

    it('events committed while the NOTIFY connection is down reach the other replica once it is back', async () => {
      const r = await twoReplicas();
      try {
        // Cut A's LISTEN/NOTIFY connection; B's stays.
        const { rows } = await sql<{ pid: number }>`
          select pid from pg_stat_activity
          where application_name = ${`${EVENTS_APPLICATION_NAME} ${A}`}`.execute(r.a.ctx.db);
        assert.equal(rows.length, 1);
        await sql`select pg_terminate_backend(${rows[0]!.pid})`.execute(r.a.ctx.db);
        const got = nextEvent(r.b, (e) => e.type === 'job.state' && e.jobId === 2000, 10_000);
        await inTransaction(r.a.ctx, async (_tx, emit) =>
          emit({ type: 'job.state', jobId: 2000, from: 'QUEUED', to: 'RUNNING' }),
        );
        await got;
      } finally {
        await r.close();
      }
    });

    // An audit entry is written after its response, so its event may come as the bus closes.
    it(
      'an event delivered while the bus closes does not hold the close up',
      { timeout: 30_000 },
      async () => {
        const r = await twoReplicas();
        try {
          const closing = r.a.ctx.bus.close();
          r.a.ctx.bus.deliver([{ type: 'audit.recorded', jobId: 1, auditId: 1, at: 0 }]);
          await closing;
          r.a.ctx.bus.deliver([{ type: 'audit.recorded', jobId: 1, auditId: 2, at: 0 }]);
          // The engine (its pool too) still closes.
        } finally {
          await r.close();
        }
      },
    );

    it('a node long-polling on B gets a job submitted through A without waiting out the poll', async () => {
      const r = await twoReplicas();
      try {
        const node = await registerNode(r.b.ctx, { name: 'n1' });
        assert.equal(await r.b.dispatcher.tryAcquire(node.id), undefined);
        const began = Date.now();
        const polling = r.b.dispatcher.acquire(node.id, 10_000);
        // Let the poll find nothing and start waiting.
        await new Promise((resolve) => setTimeout(resolve, 200));
        const jobId = await submitJob(r.a.ctx, spec);
        const got = await polling;
        const waited = Date.now() - began;
        assert.ok(got, 'the long-poll returned a task');
        assert.equal(got.execution.job_id, jobId);
        assert.equal(got.execution.node_id, node.id);
        assert.ok(
          waited < 8000,
          `woken by the event, not by the 10 s poll timeout (waited ${waited} ms)`,
        );
        assert.equal((await findJob(r.a.ctx.db, jobId))?.state, 'RUNNING');
      } finally {
        await r.close();
      }
    });

    it('a long-poll that finds nothing returns undefined when its wait ends', async () => {
      const r = await twoReplicas();
      try {
        const node = await registerNode(r.b.ctx, { name: 'n1' });
        const began = Date.now();
        assert.equal(await r.b.dispatcher.acquire(node.id, 300), undefined);
        assert.ok(Date.now() - began >= 250);
      } finally {
        await r.close();
      }
    });
  },
);
