import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import { expectError, expectStatus, getJob, submit } from './support.js';

/* `schedule` on POST and PATCH /api/v1/jobs: what it accepts, refuses and shows. */

// Times of day are the server's local time, and the server runs in this process.
process.env.TZ = 'Europe/Berlin';

const local = (y: number, mo: number, d: number, h = 0, min = 0): number =>
  new Date(y, mo - 1, d, h, min).getTime();
const iso = (ms: number) => new Date(ms).toISOString();

for (const database of TEST_DATABASES) {
  describe(`native API: job schedules (${database.name})`, () => {
    let t: TestServer;
    const patch = (id: number, body: unknown) => t.request('PATCH', `/api/v1/jobs/${id}`, body);
    const post = (body: Record<string, unknown>) =>
      t.request('POST', '/api/v1/jobs', {
        type: 'command-line',
        parameters: { executable: 'echo' },
        ...body,
      });
    before(async () => {
      t = await startTestServer(database);
      t.clock.now = local(2026, 1, 5, 8); // a Monday
    });
    after(async () => {
      await t?.close();
    });

    it('a daily schedule: shown with its next event, followed by the reaper', async () => {
      const daily = {
        kind: 'daily',
        startDate: '2026-01-05',
        startTime: '9:00',
        stopTime: '17:00',
        everyDays: 2,
      };
      const job = await submit(t, { name: 'nightly', schedule: daily });
      assert.equal(job.state, 'PENDING');
      assert.equal(job.pendReason, 'SCHEDULE');
      assert.deepEqual(job.schedule, { ...daily, startTime: '09:00' });
      assert.equal(job.nextScheduleAt, iso(local(2026, 1, 5, 9)));
      assert.equal(job.scheduledAt, iso(local(2026, 1, 5, 9)));
      assert.equal(job.suspendReason, null);
      let reasons = expectStatus(
        await t.request('GET', `/api/v1/jobs/${job.id}/waiting-reasons`),
        200,
      ).body.reasons;
      assert.deepEqual(reasons, [
        { code: 'SCHEDULED', message: `scheduled: next start at ${iso(local(2026, 1, 5, 9))}` },
      ]);

      t.clock.now = local(2026, 1, 5, 9);
      await t.engine.reaper.tick();
      let shown = await getJob(t, job.id);
      assert.equal(shown.state, 'QUEUED');
      assert.equal(shown.nextScheduleAt, iso(local(2026, 1, 5, 17)));

      t.clock.now = local(2026, 1, 5, 17);
      await t.engine.reaper.tick();
      shown = await getJob(t, job.id);
      assert.equal(shown.state, 'SUSPENDED');
      assert.equal(shown.suspendReason, 'SCHEDULE');
      assert.equal(shown.nextScheduleAt, iso(local(2026, 1, 7, 9)));
      reasons = expectStatus(await t.request('GET', `/api/v1/jobs/${job.id}/waiting-reasons`), 200)
        .body.reasons;
      assert.deepEqual(reasons, [
        {
          code: 'OUTSIDE_SCHEDULE',
          message: `outside its schedule window until ${iso(local(2026, 1, 7, 9))}`,
        },
      ]);
      // The list shows the schedule as well.
      const list = expectStatus(await t.request('GET', '/api/v1/jobs?q=nightly'), 200).body;
      assert.deepEqual(list.items[0].schedule, shown.schedule);
    });

    it('a once schedule takes date-times; scheduledAt stays the simple once', async () => {
      const start = iso(local(2026, 1, 6, 9));
      const stop = iso(local(2026, 1, 6, 12));
      const once = await submit(t, { schedule: { kind: 'once', start, stop } });
      assert.deepEqual(once.schedule, { kind: 'once', start, stop });
      assert.equal(once.scheduledAt, start);
      assert.equal(once.nextScheduleAt, start);

      const simple = await submit(t, { scheduledAt: start });
      assert.equal(simple.state, 'PENDING');
      assert.equal(simple.pendReason, 'SCHEDULE');
      assert.equal(simple.scheduledAt, start);
      assert.deepEqual(simple.schedule, { kind: 'once', start });
    });

    it('PATCH replaces or removes the schedule and moves the job to match', async () => {
      const job = await submit(t, { frames: '1-2' });
      assert.equal(job.state, 'QUEUED');
      // Monday 08:00 is outside a Wednesday window: the untouched job waits for it.
      let res = expectStatus(
        await patch(job.id, {
          schedule: { kind: 'custom', days: { wed: { start: '09:00', stop: '17:00' } } },
          priority: 60,
        }),
        200,
      );
      assert.equal(res.body.state, 'PENDING');
      assert.equal(res.body.pendReason, 'SCHEDULE');
      assert.equal(res.body.priority, 60);
      assert.deepEqual(res.body.schedule, {
        kind: 'custom',
        days: { wed: { start: '09:00', stop: '17:00' } },
      });
      assert.equal(res.body.nextScheduleAt, iso(local(2026, 1, 7, 9)));

      // A window open now (Monday from 07:00) releases it.
      res = expectStatus(
        await patch(job.id, { schedule: { kind: 'custom', days: { mon: { start: '07:00' } } } }),
        200,
      );
      assert.equal(res.body.state, 'QUEUED');

      res = expectStatus(await patch(job.id, { schedule: null }), 200);
      assert.equal(res.body.schedule, null);
      assert.equal(res.body.nextScheduleAt, null);
      assert.equal(res.body.state, 'QUEUED');
    });

    it('answers 400 with what to fix for bad schedules, changing nothing', async () => {
      const cases: Array<[unknown, RegExp]> = [
        [{ kind: 'weekly' }, /schedule\/kind must be one of once, daily, custom/],
        [
          { kind: 'daily', startDate: '2026-01-05', startTime: '25:00' },
          /schedule.startTime "25:00" is not a time of day; use HH:MM/,
        ],
        [
          { kind: 'daily', startDate: '2026-01-05', startTime: '09:00', stopTime: 'noon' },
          /schedule.stopTime "noon" is not a time of day/,
        ],
        [{ kind: 'daily', startDate: '5/1/2026', startTime: '09:00' }, /written YYYY-MM-DD/],
        [
          { kind: 'daily', startDate: '2026-01-05', startTime: '09:00', everyDays: 0 },
          /everyDays must be >= 1/,
        ],
        [
          { kind: 'once', start: iso(local(2026, 1, 6, 12)), stop: iso(local(2026, 1, 6, 9)) },
          /schedule.stop \(.*\) must be after schedule.start/,
        ],
        [{ kind: 'once', start: 'tomorrow' }, /schedule\/start must match format "date-time"/],
        [
          { kind: 'once', start: iso(local(2026, 1, 1)), stop: iso(local(2026, 1, 2)) },
          /the schedule has ended: its stop lies in the past/,
        ],
        [{ kind: 'custom', days: {} }, /a custom schedule needs a start time on at least one day/],
        [{ kind: 'custom', days: { mon: { stop: '06:00' } } }, /start time on at least one day/],
        [{ kind: 'custom', days: { monday: { start: '06:00' } } }, /unknown property "monday"/],
        [
          { kind: 'once', start: iso(local(2026, 1, 6)), everyDays: 2 },
          /schedule.everyDays belongs to a daily schedule; a once schedule takes start, stop/,
        ],
      ];
      for (const [schedule, message] of cases) {
        const res = expectError(
          await post({ schedule }),
          400,
          'VALIDATION',
          JSON.stringify(schedule),
        );
        assert.match(res.body.message, message, JSON.stringify(schedule));
      }
      const both = expectError(
        await post({
          scheduledAt: iso(local(2026, 1, 6)),
          schedule: { kind: 'once', start: iso(local(2026, 1, 6)) },
        }),
        400,
        'VALIDATION',
      );
      assert.match(both.body.message, /either schedule or scheduledAt/);

      const job = await submit(t, { schedule: { kind: 'once', start: iso(local(2026, 1, 6, 9)) } });
      const res = expectError(
        await patch(job.id, { priority: 90, schedule: { kind: 'custom', days: {} } }),
        400,
        'VALIDATION',
      );
      assert.match(res.body.message, /start time on at least one day/);
      const unchanged = await getJob(t, job.id);
      assert.equal(unchanged.priority, job.priority, 'nothing of a refused PATCH is applied');
      assert.deepEqual(unchanged.schedule, job.schedule);
    });

    it('the OpenAPI document describes the schedule on submit, PATCH and the job', async () => {
      const doc = expectStatus(await t.request('GET', '/docs/json'), 200).body;
      const submitBody =
        doc.paths['/api/v1/jobs'].post.requestBody.content['application/json'].schema;
      const schedule = submitBody.properties.schedule;
      assert.deepEqual(
        schedule.properties.kind.anyOf.flatMap((k: { enum: string[] }) => k.enum),
        ['once', 'daily', 'custom'],
      );
      assert.match(schedule.description, /At a start the job is released/);
      assert.deepEqual(Object.keys(schedule.properties.days.properties), [
        'mon',
        'tue',
        'wed',
        'thu',
        'fri',
        'sat',
        'sun',
      ]);
      const patchBody =
        doc.paths['/api/v1/jobs/{id}'].patch.requestBody.content['application/json'].schema;
      assert.match(patchBody.properties.schedule.description, /null removes it/);
      const job =
        doc.paths['/api/v1/jobs/{id}'].get.responses['200'].content['application/json'].schema;
      for (const field of ['schedule', 'nextScheduleAt', 'suspendReason']) {
        assert.ok(job.properties[field], `the job shows ${field}`);
      }
    });
  });
}
