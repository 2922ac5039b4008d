import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ScheduleInput } from '../../src/domain/job-schedule.js';
import type { EngineContext } from '../../src/engine/context.js';
import type { DroverEvent } from '../../src/engine/events/events.js';
import { applyJobAction, updateJobSettings } from '../../src/engine/jobs/job-actions.js';
import { submitJob, type SubmitJobSpec } from '../../src/engine/jobs/job-submission.js';
import { waitingReasons } from '../../src/engine/jobs/waiting-reasons.js';
import { nodeHeartbeat, registerNode } from '../../src/engine/nodes/node-registry.js';
import { findExecution } from '../../src/store/executions.js';
import { findJob } from '../../src/store/jobs.js';
import type { JobRow } from '../../src/store/schema.js';
import { listTasks } from '../../src/store/tasks.js';
import { TEST_DATABASES, startTestEngine, type TestEngine } from '../helpers/databases.js';
import { eventually } from '../helpers/eventually.js';

/*
 * Jobs following their schedules, moved by the reaper on a hand-moved clock. Times of day are
 * the server's local time: the zone is pinned (one with daylight saving) so the results do
 * not depend on the machine running the tests.
 */
process.env.TZ = 'Europe/Berlin';

const DAY = 86_400_000;

/** A local wall-clock time in the pinned zone. */
const local = (y: number, mo: number, d: number, h = 0, min = 0): number =>
  new Date(y, mo - 1, d, h, min).getTime();

class Scheduled {
  constructor(readonly t: TestEngine) {}
  get ctx(): EngineContext {
    return this.t.engine.ctx;
  }
  at(ms: number): void {
    assert.ok(ms >= this.t.clock.now, 'the clock only moves forward');
    this.t.clock.now = ms;
  }
  submit(schedule: ScheduleInput, spec: Partial<SubmitJobSpec> = {}): Promise<number> {
    return submitJob(this.ctx, {
      type: 'command-line',
      user: 'alice',
      parameters: { executable: 'echo' },
      frames: '1-3',
      schedule,
      ...spec,
    });
  }
  async job(id: number): Promise<JobRow> {
    const row = await findJob(this.ctx.db, id);
    assert.ok(row, `job ${id} exists`);
    return row;
  }
  async taskStates(id: number): Promise<string[]> {
    return (await listTasks(this.ctx.db, id, { limit: 100, offset: 0 })).rows.map((t) => t.state);
  }
  /** One reaper pass: [jobs the schedule started, jobs it suspended]. */
  async tick(): Promise<[number, number]> {
    const r = await this.t.engine.reaper.tick();
    return [r.released, r.suspended];
  }
  /** State, pend or suspend reason, and the next schedule event as a local time. */
  async where(id: number): Promise<[string, string | null, string | null]> {
    const job = await this.job(id);
    const next = job.next_schedule_at === null ? null : localText(job.next_schedule_at);
    return [job.state, job.pend_reason ?? job.suspend_reason, next];
  }
  async reasons(id: number): Promise<string[]> {
    return (await waitingReasons(this.ctx, id)).map((r) => `${r.code}: ${r.message}`);
  }
}

function localText(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

async function withEngine(
  database: (typeof TEST_DATABASES)[number],
  fn: (s: Scheduled) => Promise<void>,
): Promise<void> {
  // Leases and nodes outlive the hours the clock jumps, so only the schedule moves work.
  const t = await startTestEngine(database, {
    settings: { leaseMs: 30 * DAY, nodeTimeoutMs: 30 * DAY },
  });
  try {
    await fn(new Scheduled(t));
  } finally {
    await t.close();
  }
}

for (const database of TEST_DATABASES) {
  describe(`engine: job schedules (${database.name})`, () => {
    it('once with a stop: pending until the start, suspended at the stop with its running task, then no more events', () =>
      withEngine(database, async (s) => {
        s.at(local(2026, 1, 5, 8));
        const id = await s.submit({
          kind: 'once',
          start: local(2026, 1, 5, 9),
          stop: local(2026, 1, 5, 11),
        });
        assert.deepEqual(await s.where(id), ['PENDING', 'SCHEDULE', '01-05 09:00']);
        assert.equal((await s.job(id)).scheduled_at, local(2026, 1, 5, 9));
        assert.deepEqual(await s.reasons(id), [
          `SCHEDULED: scheduled: next start at ${new Date(local(2026, 1, 5, 9)).toISOString()}`,
        ]);

        s.at(local(2026, 1, 5, 8, 59));
        assert.deepEqual(await s.tick(), [0, 0]);
        s.at(local(2026, 1, 5, 9));
        assert.deepEqual(await s.tick(), [1, 0]);
        assert.deepEqual(await s.where(id), ['QUEUED', null, '01-05 11:00']);
        assert.deepEqual(await s.taskStates(id), ['QUEUED', 'QUEUED', 'QUEUED']);

        const node = (await registerNode(s.ctx, { name: 'n1' })).id;
        const acquired = await s.t.engine.dispatcher.tryAcquire(node);
        assert.ok(acquired, 'the node gets a task');
        s.at(local(2026, 1, 5, 11));
        const events: DroverEvent[] = [];
        const off = s.ctx.bus.subscribe((e) => events.push(e));
        try {
          assert.deepEqual(await s.tick(), [0, 1]);
          await eventually(() =>
            assert.ok(
              events.some(
                (e) => e.type === 'job.state' && e.from === 'RUNNING' && e.to === 'SUSPENDED',
              ),
              JSON.stringify(events),
            ),
          );
        } finally {
          off();
        }
        assert.deepEqual(await s.where(id), ['SUSPENDED', 'SCHEDULE', null]);
        assert.deepEqual(await s.taskStates(id), ['SUSPENDED', 'SUSPENDED', 'SUSPENDED']);
        // The running try was withdrawn, as a suspend by hand withdraws it.
        const execution = await findExecution(s.ctx.db, acquired.execution.id);
        assert.equal(execution?.state, 'CANCELED');
        assert.deepEqual(
          (await nodeHeartbeat(s.ctx, s.t.engine.settings, node, [execution.id])).stop,
          [execution.id],
        );
        assert.deepEqual(await s.reasons(id), [
          'OUTSIDE_SCHEDULE: outside its schedule window, which has ended; change the schedule to run it again',
        ]);
        s.at(local(2026, 1, 9));
        assert.deepEqual(await s.tick(), [0, 0]);
        assert.deepEqual(await s.where(id), ['SUSPENDED', 'SCHEDULE', null]);
        // A resume by hand after the schedule has ended runs it: nothing is left to wait for.
        await applyJobAction(s.ctx, id, 'resume');
        assert.deepEqual(await s.where(id), ['QUEUED', null, null]);
      }));

    it('daily every 2 days with a stop, over several cycles', () =>
      withEngine(database, async (s) => {
        s.at(local(2026, 1, 5, 8));
        const id = await s.submit({
          kind: 'daily',
          startDate: '2026-01-05',
          startTime: '20:00',
          stopTime: '06:00',
          everyDays: 2,
        });
        assert.deepEqual(await s.where(id), ['PENDING', 'SCHEDULE', '01-05 20:00']);
        const cycle: Array<[number, [number, number], [string, string | null, string | null]]> = [
          [local(2026, 1, 5, 20), [1, 0], ['QUEUED', null, '01-06 06:00']],
          [local(2026, 1, 6, 6), [0, 1], ['SUSPENDED', 'SCHEDULE', '01-07 20:00']],
          // Tuesday is not a day of the schedule: nothing is due.
          [local(2026, 1, 6, 20), [0, 0], ['SUSPENDED', 'SCHEDULE', '01-07 20:00']],
          [local(2026, 1, 7, 20), [1, 0], ['QUEUED', null, '01-08 06:00']],
          [local(2026, 1, 8, 6), [0, 1], ['SUSPENDED', 'SCHEDULE', '01-09 20:00']],
          [local(2026, 1, 9, 20, 5), [1, 0], ['QUEUED', null, '01-10 06:00']],
        ];
        for (const [at, counts, where] of cycle) {
          s.at(at);
          assert.deepEqual(await s.tick(), counts, localText(at));
          assert.deepEqual(await s.where(id), where, localText(at));
        }
        assert.deepEqual(await s.taskStates(id), ['QUEUED', 'QUEUED', 'QUEUED']);
        // Asleep through a start and a stop: the job is where the schedule says it is now.
        s.at(local(2026, 1, 12, 12));
        assert.deepEqual(await s.tick(), [0, 1]);
        assert.deepEqual(await s.where(id), ['SUSPENDED', 'SCHEDULE', '01-13 20:00']);
        assert.match(
          (await s.reasons(id)).join(),
          new RegExp(
            `OUTSIDE_SCHEDULE: outside its schedule window until ${new Date(local(2026, 1, 13, 20)).toISOString()}`,
          ),
        );
      }));

    it('daily starts keep their local time across the daylight-saving change', () =>
      withEngine(database, async (s) => {
        s.at(local(2026, 3, 27, 18));
        const id = await s.submit({
          kind: 'daily',
          startDate: '2026-03-27',
          startTime: '09:00',
          stopTime: '17:00',
        });
        assert.deepEqual(await s.where(id), ['PENDING', 'SCHEDULE', '03-28 09:00']);
        for (const at of [local(2026, 3, 28, 9), local(2026, 3, 28, 17)]) {
          s.at(at);
          await s.tick();
        }
        const next = (await s.job(id)).next_schedule_at!;
        assert.equal(new Date(next).toISOString(), '2026-03-29T07:00:00.000Z', '09:00 CEST');
        s.at(next);
        assert.deepEqual(await s.tick(), [1, 0]);
        assert.deepEqual(await s.where(id), ['QUEUED', null, '03-29 17:00']);
      }));

    it('custom windows across the week boundary, and a submission inside a window', () =>
      withEngine(database, async (s) => {
        const week: ScheduleInput = {
          kind: 'custom',
          days: {
            sun: { start: '22:00' },
            mon: { stop: '06:00' },
            wed: { start: '09:00', stop: '17:00' },
          },
        };
        s.at(local(2026, 1, 10, 12)); // a Saturday
        const id = await s.submit(week);
        assert.deepEqual(await s.where(id), ['PENDING', 'SCHEDULE', '01-11 22:00']);
        const steps: Array<[number, [number, number], [string, string | null, string | null]]> = [
          [local(2026, 1, 11, 22), [1, 0], ['QUEUED', null, '01-12 06:00']],
          [local(2026, 1, 12, 6), [0, 1], ['SUSPENDED', 'SCHEDULE', '01-14 09:00']],
          [local(2026, 1, 14, 9), [1, 0], ['QUEUED', null, '01-14 17:00']],
          [local(2026, 1, 14, 17), [0, 1], ['SUSPENDED', 'SCHEDULE', '01-18 22:00']],
          [local(2026, 1, 18, 22), [1, 0], ['QUEUED', null, '01-19 06:00']],
        ];
        for (const [at, counts, where] of steps) {
          s.at(at);
          assert.deepEqual(await s.tick(), counts, localText(at));
          assert.deepEqual(await s.where(id), where, localText(at));
        }
        // Submitted on Sunday night, inside the window: queued at once, stopped on Monday.
        s.at(local(2026, 1, 18, 23));
        const inside = await s.submit(week);
        assert.deepEqual(await s.where(inside), ['QUEUED', null, '01-19 06:00']);
      }));

    it('a job suspended or pended by hand is not resumed or released by its schedule', () =>
      withEngine(database, async (s) => {
        const daily: ScheduleInput = {
          kind: 'daily',
          startDate: '2026-01-05',
          startTime: '09:00',
          stopTime: '17:00',
        };
        s.at(local(2026, 1, 5, 8));
        const suspended = await s.submit(daily);
        const pended = await s.submit(daily);
        const released = await s.submit(daily);
        s.at(local(2026, 1, 5, 9));
        assert.deepEqual(await s.tick(), [3, 0]);
        await applyJobAction(s.ctx, suspended, 'suspend');
        await applyJobAction(s.ctx, pended, 'pend');
        assert.deepEqual(await s.where(suspended), ['SUSPENDED', null, '01-05 17:00']);

        s.at(local(2026, 1, 5, 17));
        assert.deepEqual(await s.tick(), [0, 1], 'only the queued one is stopped');
        s.at(local(2026, 1, 6, 9));
        assert.deepEqual(await s.tick(), [1, 0], 'only the one the schedule stopped is started');
        assert.deepEqual(await s.where(suspended), ['SUSPENDED', null, '01-06 17:00']);
        assert.deepEqual(await s.where(pended), ['PENDING', 'MANUAL', '01-06 17:00']);
        assert.deepEqual(await s.where(released), ['QUEUED', null, '01-06 17:00']);
        assert.deepEqual(await s.reasons(suspended), ['NOT_QUEUED: the job is SUSPENDED']);

        // Resumed by hand outside the window, it waits for the next start.
        s.at(local(2026, 1, 6, 17));
        assert.deepEqual(await s.tick(), [0, 1]);
        await applyJobAction(s.ctx, released, 'resume');
        assert.deepEqual(await s.where(released), ['PENDING', 'SCHEDULE', '01-07 09:00']);
        // Released by hand, it runs now, and the next stop suspends it.
        await applyJobAction(s.ctx, released, 'release');
        assert.deepEqual(await s.where(released), ['QUEUED', null, '01-07 09:00']);
        s.at(local(2026, 1, 7, 9));
        await s.tick();
        assert.deepEqual(await s.where(released), ['QUEUED', null, '01-07 17:00']);
        s.at(local(2026, 1, 7, 17));
        await s.tick();
        assert.deepEqual(await s.where(released), ['SUSPENDED', 'SCHEDULE', '01-08 09:00']);
      }));

    it('an ended job stops scheduling; a requeue follows the schedule again', () =>
      withEngine(database, async (s) => {
        s.at(local(2026, 1, 5, 8));
        const daily: ScheduleInput = {
          kind: 'daily',
          startDate: '2026-01-05',
          startTime: '09:00',
          stopTime: '17:00',
        };
        const completed = await s.submit(daily);
        const canceled = await s.submit(daily);
        s.at(local(2026, 1, 5, 9));
        assert.deepEqual(await s.tick(), [2, 0]);
        await applyJobAction(s.ctx, completed, 'complete');
        await applyJobAction(s.ctx, canceled, 'cancel');
        assert.deepEqual(await s.where(completed), ['COMPLETED', null, null]);
        assert.deepEqual(await s.where(canceled), ['CANCELED', null, null]);
        for (const at of [local(2026, 1, 5, 17), local(2026, 1, 6, 9), local(2026, 1, 6, 17)]) {
          s.at(at);
          assert.deepEqual(await s.tick(), [0, 0]);
        }
        assert.equal((await s.job(completed)).state, 'COMPLETED');
        assert.equal((await s.job(canceled)).state, 'CANCELED');

        s.at(local(2026, 1, 6, 18));
        await applyJobAction(s.ctx, canceled, 'requeue');
        assert.deepEqual(await s.where(canceled), ['QUEUED', null, '01-07 09:00']);
        s.at(local(2026, 1, 7, 17));
        assert.deepEqual(await s.tick(), [0, 1]);
        assert.deepEqual(await s.where(canceled), ['SUSPENDED', 'SCHEDULE', '01-08 09:00']);
      }));

    it('changing the schedule moves the job where the new one says it should be now', () =>
      withEngine(database, async (s) => {
        s.at(local(2026, 1, 5, 8));
        const id = await s.submit({ kind: 'once', start: local(2026, 1, 6, 9) });
        const later = { kind: 'once', start: local(2026, 1, 7, 9) } as const;

        await updateJobSettings(s.ctx, id, { schedule: later });
        assert.deepEqual(await s.where(id), ['PENDING', 'SCHEDULE', '01-07 09:00']);
        // The same schedule again changes nothing and announces no schedule change.
        s.at(local(2026, 1, 5, 8, 1));
        const now = s.t.clock.now;
        const seen: Array<DroverEvent & { at: number }> = [];
        const off = s.ctx.bus.subscribe((e) => {
          // Events of the change before may still be on their way through PostgreSQL.
          if (e.at === now) seen.push(e);
        });
        try {
          await updateJobSettings(s.ctx, id, { schedule: later });
          await eventually(() => assert.ok(seen.length > 0, 'the change is announced'));
          assert.deepEqual(seen, [{ type: 'job.updated', jobId: id, fields: [], at: now }]);
        } finally {
          off();
        }

        await updateJobSettings(s.ctx, id, { schedule: null });
        assert.deepEqual(await s.where(id), ['QUEUED', null, null]);
        assert.equal((await s.job(id)).schedule_json, null);

        // Queued with nothing started: it waits for the new window as at submission.
        await updateJobSettings(s.ctx, id, {
          schedule: { kind: 'custom', days: { wed: { start: '09:00', stop: '10:00' } } },
        });
        assert.deepEqual(await s.where(id), ['PENDING', 'SCHEDULE', '01-07 09:00']);
        assert.deepEqual(await s.taskStates(id), ['PENDING', 'PENDING', 'PENDING']);

        // Running outside the new window: suspended, as at a stop.
        await updateJobSettings(s.ctx, id, { schedule: null });
        const node = (await registerNode(s.ctx, { name: 'n1' })).id;
        assert.ok(await s.t.engine.dispatcher.tryAcquire(node), 'the node gets a task');
        await updateJobSettings(s.ctx, id, {
          schedule: {
            kind: 'daily',
            startDate: '2026-01-05',
            startTime: '20:00',
            stopTime: '22:00',
          },
        });
        assert.deepEqual(await s.where(id), ['SUSPENDED', 'SCHEDULE', '01-05 20:00']);
        s.at(local(2026, 1, 5, 20));
        assert.deepEqual(await s.tick(), [1, 0]);
        assert.deepEqual(await s.where(id), ['QUEUED', null, '01-05 22:00']);

        await assert.rejects(
          updateJobSettings(s.ctx, id, {
            schedule: { kind: 'once', start: local(2026, 1, 1), stop: local(2026, 1, 2) },
          }),
          /the schedule has ended/,
        );
        assert.deepEqual(await s.where(id), ['QUEUED', null, '01-05 22:00']);
      }));
  });
}
