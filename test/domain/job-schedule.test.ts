import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DroverError } from '../../src/domain/errors.js';
import {
  checkSchedule,
  nextScheduleEvent,
  scheduleHolds,
  scheduleOpenAt,
  WEEKDAYS,
  type JobSchedule,
  type ScheduleInput,
} from '../../src/domain/job-schedule.js';

// Times of day are the server's local time: pin a zone with daylight saving, so the
// results do not depend on the machine and the spring change (2026-03-29) is exercised.
process.env.TZ = 'Europe/Berlin';

/** A local wall-clock time in the pinned zone. */
const local = (y: number, mo: number, d: number, h = 0, min = 0): number =>
  new Date(y, mo - 1, d, h, min).getTime();

function refused(input: ScheduleInput, field: string, pattern: RegExp): void {
  assert.throws(
    () => checkSchedule(input),
    (error: unknown) => {
      assert.ok(error instanceof DroverError, String(error));
      assert.equal(error.code, 'VALIDATION');
      assert.equal(error.details?.field, field, error.message);
      assert.match(error.message, pattern);
      return true;
    },
  );
}

/** Every event from `from` on, `count` of them, as [local date-time, kind]. */
function events(schedule: JobSchedule, from: number, count: number): string[] {
  const out: string[] = [];
  let at = from;
  for (let i = 0; i < count; i++) {
    const e = nextScheduleEvent(schedule, at);
    if (!e) break;
    const d = new Date(e.at);
    const pad = (n: number) => String(n).padStart(2, '0');
    out.push(
      `${WEEKDAYS[(d.getDay() + 6) % 7]} ${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())} ${e.kind}`,
    );
    at = e.at;
  }
  return out;
}

describe('job schedules: checking', () => {
  it('refuses bad input with the field and what to send', () => {
    refused({ kind: 'weekly' }, 'schedule.kind', /one of once, daily, custom/);
    refused({ kind: 'once' }, 'schedule.start', /needs schedule.start/);
    refused({ kind: 'once', start: 2000, stop: 1000 }, 'schedule.stop', /must be after/);
    refused({ kind: 'once', start: 1000, stop: 1000 }, 'schedule.stop', /must be after/);
    refused(
      { kind: 'once', start: 1000, startTime: '09:00' },
      'schedule.startTime',
      /belongs to a daily schedule; a once schedule takes start, stop/,
    );
    refused({ kind: 'daily', startTime: '09:00' }, 'schedule.startDate', /YYYY-MM-DD/);
    refused(
      { kind: 'daily', startDate: '2026-02-30', startTime: '09:00' },
      'schedule.startDate',
      /not "2026-02-30"/,
    );
    refused(
      { kind: 'daily', startDate: '2026-02-01', startTime: '24:00' },
      'schedule.startTime',
      /"24:00" is not a time of day; use HH:MM/,
    );
    refused(
      { kind: 'daily', startDate: '2026-02-01', startTime: '9.30' },
      'schedule.startTime',
      /not a time of day/,
    );
    refused(
      { kind: 'daily', startDate: '2026-02-01', startTime: '09:00', everyDays: 0 },
      'schedule.everyDays',
      /whole number from 1/,
    );
    refused(
      { kind: 'daily', startDate: '2026-02-01', startTime: '09:00', everyDays: 1.5 },
      'schedule.everyDays',
      /whole number/,
    );
    refused(
      { kind: 'daily', startDate: '2026-02-01', startTime: '09:00', stopTime: '9:00' },
      'schedule.stopTime',
      /equals schedule.startTime/,
    );
    refused({ kind: 'custom', days: {} }, 'schedule.days', /start time on at least one day/);
    refused(
      { kind: 'custom', days: { mon: { stop: '17:00' } } },
      'schedule.days',
      /start time on at least one day/,
    );
    refused(
      { kind: 'custom', days: { monday: { start: '09:00' } } },
      'schedule.days.monday',
      /mon, tue/,
    );
    refused(
      { kind: 'custom', days: { mon: { start: '09:00', stop: '09:00' } } },
      'schedule.days.mon.stop',
      /equals/,
    );
    refused(
      { kind: 'custom', days: { tue: { start: '7' } } },
      'schedule.days.tue.start',
      /not a time of day/,
    );
  });

  it('keeps what it accepts in one form: HH:MM, seconds only when set', () => {
    assert.deepEqual(
      checkSchedule({
        kind: 'daily',
        startDate: '2026-02-01',
        startTime: '9:05',
        stopTime: '17:00:30',
      }),
      {
        kind: 'daily',
        startDate: '2026-02-01',
        startTime: '09:05',
        stopTime: '17:00:30',
        everyDays: 1,
      },
    );
    assert.deepEqual(
      checkSchedule({ kind: 'custom', days: { fri: { start: '19:00:00' }, mon: {} } }),
      {
        kind: 'custom',
        days: { fri: { start: '19:00' } },
      },
    );
  });
});

describe('job schedules: events and windows', () => {
  it('once: a start and a stop, open only between them; nothing holds after the stop', () => {
    const s = checkSchedule({ kind: 'once', start: 1000, stop: 5000 });
    assert.deepEqual(nextScheduleEvent(s, 0), { at: 1000, kind: 'start' });
    assert.deepEqual(nextScheduleEvent(s, 1000), { at: 5000, kind: 'stop' });
    assert.equal(nextScheduleEvent(s, 5000), null);
    assert.deepEqual(
      [999, 1000, 4999, 5000].map((t) => scheduleOpenAt(s, t)),
      [false, true, true, false],
    );
    assert.equal(scheduleHolds(s, 999), true);
    assert.equal(scheduleHolds(s, 5000), false, 'ended: no start left to wait for');
  });

  it('daily every 2 days over midnight, from its start date on', () => {
    const s = checkSchedule({
      kind: 'daily',
      startDate: '2026-01-05',
      startTime: '20:00',
      stopTime: '06:00',
      everyDays: 2,
    });
    assert.deepEqual(events(s, local(2026, 1, 1), 6), [
      'mon 01-05 20:00 start',
      'tue 01-06 06:00 stop',
      'wed 01-07 20:00 start',
      'thu 01-08 06:00 stop',
      'fri 01-09 20:00 start',
      'sat 01-10 06:00 stop',
    ]);
    assert.equal(scheduleOpenAt(s, local(2026, 1, 5, 19, 59)), false);
    assert.equal(scheduleOpenAt(s, local(2026, 1, 6, 3)), true);
    assert.equal(scheduleOpenAt(s, local(2026, 1, 6, 21)), false, 'not a day of the schedule');
    assert.equal(scheduleOpenAt(s, local(2026, 1, 7, 23)), true);
  });

  it('daily keeps its local time across the daylight-saving change', () => {
    const s = checkSchedule({
      kind: 'daily',
      startDate: '2026-03-27',
      startTime: '09:00',
      stopTime: '17:00',
    });
    assert.deepEqual(events(s, local(2026, 3, 27, 18), 4), [
      'sat 03-28 09:00 start',
      'sat 03-28 17:00 stop',
      'sun 03-29 09:00 start',
      'sun 03-29 17:00 stop',
    ]);
    // 23 hours from Saturday's start to Sunday's: the clocks went forward in between.
    const sat = nextScheduleEvent(s, local(2026, 3, 27, 18))!.at;
    const sun = nextScheduleEvent(s, local(2026, 3, 28, 18))!.at;
    assert.equal(sun - sat, 23 * 3_600_000);
    assert.equal(new Date(sun).toISOString(), '2026-03-29T07:00:00.000Z');
  });

  it('daily without a stop is open from its first start on', () => {
    const s = checkSchedule({ kind: 'daily', startDate: '2026-01-05', startTime: '20:00' });
    assert.equal(scheduleOpenAt(s, local(2026, 1, 5, 19)), false);
    assert.equal(scheduleOpenAt(s, local(2026, 1, 5, 20)), true);
    assert.equal(scheduleOpenAt(s, local(2026, 3, 1)), true);
  });

  it('custom: a window from Sunday night across the week boundary, and one on Wednesday', () => {
    const s = checkSchedule({
      kind: 'custom',
      days: {
        sun: { start: '22:00' },
        mon: { stop: '06:00' },
        wed: { start: '09:00', stop: '17:00' },
      },
    });
    assert.deepEqual(events(s, local(2026, 1, 10, 12), 6), [
      'sun 01-11 22:00 start',
      'mon 01-12 06:00 stop',
      'wed 01-14 09:00 start',
      'wed 01-14 17:00 stop',
      'sun 01-18 22:00 start',
      'mon 01-19 06:00 stop',
    ]);
    assert.equal(scheduleOpenAt(s, local(2026, 1, 10, 12)), false);
    assert.equal(scheduleOpenAt(s, local(2026, 1, 11, 23)), true);
    assert.equal(scheduleOpenAt(s, local(2026, 1, 12, 5, 59)), true);
    assert.equal(scheduleOpenAt(s, local(2026, 1, 12, 6)), false);
    assert.deepEqual(nextScheduleEvent(s, local(2026, 1, 12, 6), 'start'), {
      at: local(2026, 1, 14, 9),
      kind: 'start',
    });
  });

  it('custom: a stop before the start on the same day ends the night before', () => {
    const s = checkSchedule({
      kind: 'custom',
      days: Object.fromEntries(WEEKDAYS.map((d) => [d, { stop: '06:00', start: '20:00' }])),
    });
    assert.equal(scheduleOpenAt(s, local(2026, 1, 7, 3)), true);
    assert.equal(scheduleOpenAt(s, local(2026, 1, 7, 12)), false);
    assert.equal(scheduleOpenAt(s, local(2026, 1, 7, 21)), true);
  });

  it('between two events the window does not change, and each event sets it', () => {
    const time = fc.integer({ min: 0, max: 24 * 3600 - 1 }).map((s) => {
      const pad = (n: number) => String(n).padStart(2, '0');
      return `${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
    });
    const schedule = fc.oneof(
      fc
        .record({
          startDate: fc
            .integer({ min: 1, max: 28 })
            .map((d) => `2026-01-${String(d).padStart(2, '0')}`),
          startTime: time,
          stopTime: fc.option(time, { nil: undefined }),
          everyDays: fc.integer({ min: 1, max: 9 }),
        })
        .filter((r) => r.stopTime !== r.startTime)
        .map((r) => checkSchedule({ kind: 'daily', ...r })),
      fc
        .dictionary(
          fc.constantFrom(...WEEKDAYS),
          fc.record({
            start: fc.option(time, { nil: undefined }),
            stop: fc.option(time, { nil: undefined }),
          }),
        )
        .filter(
          (days) =>
            Object.values(days).some((d) => d.start !== undefined) &&
            Object.values(days).every((d) => d.start === undefined || d.start !== d.stop),
        )
        .map((days) => checkSchedule({ kind: 'custom', days })),
    );
    // January and February: no daylight-saving change, so no two events can share an instant.
    const at = fc.integer({ min: local(2026, 1, 1), max: local(2026, 2, 20) });
    fc.assert(
      fc.property(schedule, at, (s, t) => {
        // Daily and custom schedules repeat: there is always a next event.
        const next = nextScheduleEvent(s, t);
        assert.ok(next && next.at > t, 'a next event after t');
        if (next.at - 1 > t) assert.equal(scheduleOpenAt(s, next.at - 1), scheduleOpenAt(s, t));
        assert.equal(scheduleOpenAt(s, next.at), next.kind === 'start');
        return true;
      }),
    );
  });
});
