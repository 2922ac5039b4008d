import { invalid } from './errors.js';

/*
 * A job's schedule: when it may run. A schedule is a series of start and stop events; at a
 * start the job runs (it is released or resumed), at a stop it is suspended, and at any
 * moment the last event before it says whether the window is open. Deadline's four modes
 * (None, Once, Daily, Custom) are the four shapes; "none" is no schedule at all.
 *
 * Dates and times of day are wall-clock times in the server's local time zone (the TZ of
 * the process), so a daily 09:00 start stays at 09:00 across a daylight-saving change:
 * every instant is computed from its calendar date and time of day, never by adding 24 h.
 * A once schedule is given as instants, which need no zone.
 */

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** A start and/or stop time of day ("HH:MM" or "HH:MM:SS") on one weekday. */
export interface DayWindow {
  start?: string;
  stop?: string;
}

export type JobSchedule =
  /** Starts at `start` (ms since the epoch) and, if given, stops for good at `stop`. */
  | { kind: 'once'; start: number; stop?: number }
  /**
   * Starts at `startTime` on `startDate` (YYYY-MM-DD) and every `everyDays` days after it;
   * stops at the first `stopTime` after each start (the next day if it is not later).
   */
  | { kind: 'daily'; startDate: string; startTime: string; stopTime?: string; everyDays: number }
  /**
   * Every week, a start and/or a stop on each day named. A stop ends the window the last
   * start opened, the same day or days later: Friday 19:00 to Monday 07:00 is a start on
   * `fri` and a stop on `mon`.
   */
  | { kind: 'custom'; days: Partial<Record<Weekday, DayWindow>> };

export type ScheduleKind = JobSchedule['kind'];

/** A schedule as a client sends it, before checking. */
export interface ScheduleInput {
  kind: string;
  start?: number;
  stop?: number;
  startDate?: string;
  startTime?: string;
  stopTime?: string;
  everyDays?: number;
  days?: Record<string, DayWindow | undefined>;
}

export interface ScheduleEvent {
  at: number;
  kind: 'start' | 'stop';
}

export const MAX_EVERY_DAYS = 3650;
const DAY_MS = 86_400_000;

const FIELDS_OF: Record<ScheduleKind, readonly string[]> = {
  once: ['start', 'stop'],
  daily: ['startDate', 'startTime', 'stopTime', 'everyDays'],
  custom: ['days'],
};

/** Seconds since midnight of "H:MM", "HH:MM" or "HH:MM:SS"; undefined if it is not one. */
export function secondsOfDay(text: string): number | undefined {
  const m = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(text.trim());
  if (!m) return undefined;
  const [h, min, s] = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
  if (h > 23 || min > 59 || s > 59) return undefined;
  return h * 3600 + min * 60 + s;
}

/** "HH:MM", or "HH:MM:SS" when the seconds are not zero. */
export function timeOfDayText(seconds: number): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const hm = `${pad(Math.floor(seconds / 3600))}:${pad(Math.floor(seconds / 60) % 60)}`;
  return seconds % 60 === 0 ? hm : `${hm}:${pad(seconds % 60)}`;
}

/** The calendar day (days since 1970-01-01) of a YYYY-MM-DD date; undefined if not real. */
function dayOfDate(text: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text.trim());
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(y, mo - 1, d);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) {
    return undefined;
  }
  return ms / DAY_MS;
}

/** The local calendar day an instant falls on. */
export function localDay(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()) / DAY_MS;
}

/** The instant of a local time of day on a calendar day. */
export function localInstant(day: number, seconds: number): number {
  const d = new Date(day * DAY_MS);
  return new Date(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), 0, 0, seconds).getTime();
}

/** The local YYYY-MM-DD date and the seconds of its day, of an instant. */
export function localDateAndTime(ms: number): { date: string; seconds: number } {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return {
    date: `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`,
    seconds: d.getHours() * 3600 + d.getMinutes() * 60 + d.getSeconds(),
  };
}

/** 1970-01-01 was a Thursday: Monday is 0 in WEEKDAYS. */
const weekdayOf = (day: number): Weekday => WEEKDAYS[(((day + 3) % 7) + 7) % 7]!;

function timeField(value: unknown, field: string): number {
  const seconds = typeof value === 'string' ? secondsOfDay(value) : undefined;
  if (seconds === undefined) {
    throw invalid(
      `${field} "${String(value)}" is not a time of day; use HH:MM or HH:MM:SS (00:00 to 23:59:59, the server's local time)`,
      { field },
    );
  }
  return seconds;
}

const isInstant = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * Checks a schedule a client sent and returns it in its stored form, with times of day
 * written "HH:MM" (or "HH:MM:SS"). Every refusal names the field and what to send instead.
 */
export function checkSchedule(input: ScheduleInput): JobSchedule {
  const kind = input.kind as ScheduleKind;
  if (!(kind in FIELDS_OF)) {
    throw invalid(`schedule.kind must be one of once, daily, custom, not "${input.kind}"`, {
      field: 'schedule.kind',
    });
  }
  for (const [key, value] of Object.entries(input)) {
    if (key === 'kind' || value === undefined || FIELDS_OF[kind].includes(key)) continue;
    const owner = (Object.keys(FIELDS_OF) as ScheduleKind[]).find((k) =>
      FIELDS_OF[k].includes(key),
    );
    throw invalid(
      `schedule.${key} ${owner ? `belongs to a ${owner} schedule` : 'is not a schedule field'}; a ${kind} schedule takes ${FIELDS_OF[kind].join(', ')}`,
      { field: `schedule.${key}` },
    );
  }
  if (kind === 'once') {
    if (!isInstant(input.start)) {
      throw invalid('a once schedule needs schedule.start (a date-time)', {
        field: 'schedule.start',
      });
    }
    if (input.stop === undefined) return { kind, start: input.start };
    if (!isInstant(input.stop)) {
      throw invalid('schedule.stop must be a date-time', { field: 'schedule.stop' });
    }
    if (input.stop <= input.start) {
      throw invalid(
        `schedule.stop (${new Date(input.stop).toISOString()}) must be after schedule.start (${new Date(input.start).toISOString()})`,
        { field: 'schedule.stop' },
      );
    }
    return { kind, start: input.start, stop: input.stop };
  }
  if (kind === 'daily') {
    if (input.startDate === undefined || dayOfDate(input.startDate) === undefined) {
      throw invalid(
        `a daily schedule needs schedule.startDate, a date written YYYY-MM-DD${input.startDate === undefined ? '' : `, not "${input.startDate}"`}`,
        { field: 'schedule.startDate' },
      );
    }
    if (input.startTime === undefined) {
      throw invalid('a daily schedule needs schedule.startTime (HH:MM)', {
        field: 'schedule.startTime',
      });
    }
    const start = timeField(input.startTime, 'schedule.startTime');
    const everyDays = input.everyDays ?? 1;
    if (!Number.isInteger(everyDays) || everyDays < 1 || everyDays > MAX_EVERY_DAYS) {
      throw invalid(
        `schedule.everyDays must be a whole number from 1 (every day) to ${MAX_EVERY_DAYS}, not ${String(input.everyDays)}`,
        { field: 'schedule.everyDays' },
      );
    }
    const daily: JobSchedule = {
      kind,
      startDate: input.startDate.trim(),
      startTime: timeOfDayText(start),
      everyDays,
    };
    if (input.stopTime === undefined) return daily;
    const stop = timeField(input.stopTime, 'schedule.stopTime');
    if (stop === start) {
      throw invalid(
        'schedule.stopTime equals schedule.startTime; give a stop time at least a minute away (an earlier one means the next day), or none',
        { field: 'schedule.stopTime' },
      );
    }
    return { ...daily, stopTime: timeOfDayText(stop) };
  }
  const days: Partial<Record<Weekday, DayWindow>> = {};
  for (const [name, window] of Object.entries(input.days ?? {})) {
    if (!(WEEKDAYS as readonly string[]).includes(name)) {
      throw invalid(`schedule.days.${name} is not a weekday; use ${WEEKDAYS.join(', ')}`, {
        field: `schedule.days.${name}`,
      });
    }
    if (window === undefined) continue;
    const out: DayWindow = {};
    const field = `schedule.days.${name}`;
    const start =
      window.start === undefined ? undefined : timeField(window.start, `${field}.start`);
    const stop = window.stop === undefined ? undefined : timeField(window.stop, `${field}.stop`);
    if (start !== undefined && start === stop) {
      throw invalid(`${field}.stop equals ${field}.start; leave one out or move it`, {
        field: `${field}.stop`,
      });
    }
    if (start !== undefined) out.start = timeOfDayText(start);
    if (stop !== undefined) out.stop = timeOfDayText(stop);
    if (out.start !== undefined || out.stop !== undefined) days[name as Weekday] = out;
  }
  if (!Object.values(days).some((d) => d.start !== undefined)) {
    throw invalid(
      'a custom schedule needs a start time on at least one day, e.g. {"days": {"mon": {"start": "09:00", "stop": "17:00"}}}',
      { field: 'schedule.days' },
    );
  }
  return { kind, days };
}

/** A schedule as stored in the job row; null for none. */
export function parseStoredSchedule(json: string | null): JobSchedule | null {
  return json === null ? null : (JSON.parse(json) as JobSchedule);
}

/** The events of a schedule from about `from` to `to`, in time order (a superset is fine). */
function eventsBetween(schedule: JobSchedule, from: number, to: number): ScheduleEvent[] {
  const events: ScheduleEvent[] = [];
  if (schedule.kind === 'once') {
    events.push({ at: schedule.start, kind: 'start' });
    if (schedule.stop !== undefined) events.push({ at: schedule.stop, kind: 'stop' });
  } else if (schedule.kind === 'daily') {
    const first = dayOfDate(schedule.startDate)!;
    const start = secondsOfDay(schedule.startTime)!;
    const stop = schedule.stopTime === undefined ? undefined : secondsOfDay(schedule.stopTime)!;
    const n = schedule.everyDays;
    // A window starts on its day and ends by the next one: two periods either side suffice.
    const k0 = Math.max(0, Math.floor((localDay(from) - first) / n) - 1);
    const k1 = Math.max(0, Math.floor((localDay(to) - first) / n) + 2);
    for (let k = k0; k <= k1; k++) {
      const day = first + k * n;
      events.push({ at: localInstant(day, start), kind: 'start' });
      if (stop !== undefined) {
        events.push({ at: localInstant(stop > start ? day : day + 1, stop), kind: 'stop' });
      }
    }
  } else {
    for (let day = localDay(from) - 1; day <= localDay(to) + 1; day++) {
      const window = schedule.days[weekdayOf(day)];
      if (window?.start !== undefined) {
        events.push({ at: localInstant(day, secondsOfDay(window.start)!), kind: 'start' });
      }
      if (window?.stop !== undefined) {
        events.push({ at: localInstant(day, secondsOfDay(window.stop)!), kind: 'stop' });
      }
    }
  }
  return events.sort((a, b) => a.at - b.at);
}

/** Far enough back or ahead to meet at least one event of any schedule that has one. */
const WEEK_AND_A_DAY = 8 * DAY_MS;

/** Whether the schedule lets the job run at `at`: the last event up to then was a start. */
export function scheduleOpenAt(schedule: JobSchedule, at: number): boolean {
  if (schedule.kind === 'daily' && schedule.stopTime === undefined) {
    return at >= localInstant(dayOfDate(schedule.startDate)!, secondsOfDay(schedule.startTime)!);
  }
  const past = eventsBetween(schedule, at - WEEK_AND_A_DAY, at).filter((e) => e.at <= at);
  return past.at(-1)?.kind === 'start';
}

/** The first event strictly after `after` (of one kind, if given); null when none is left. */
export function nextScheduleEvent(
  schedule: JobSchedule,
  after: number,
  kind?: ScheduleEvent['kind'],
): ScheduleEvent | null {
  const span = schedule.kind === 'daily' ? (schedule.everyDays + 1) * DAY_MS : WEEK_AND_A_DAY;
  return (
    eventsBetween(schedule, after, after + span).find(
      (e) => e.at > after && (kind === undefined || e.kind === kind),
    ) ?? null
  );
}

/**
 * Whether the schedule holds a job back at `at`: its window is closed and a start lies
 * ahead to open it. A schedule that has ended (a once schedule past its stop) holds
 * nothing: a job released or resumed after that runs.
 */
export function scheduleHolds(schedule: JobSchedule, at: number): boolean {
  return !scheduleOpenAt(schedule, at) && nextScheduleEvent(schedule, at, 'start') !== null;
}

/** The schedule's first start (once and daily), shown as the job's scheduled time. */
export function firstScheduledStart(schedule: JobSchedule): number | null {
  if (schedule.kind === 'once') return schedule.start;
  if (schedule.kind === 'daily') {
    return localInstant(dayOfDate(schedule.startDate)!, secondsOfDay(schedule.startTime)!);
  }
  return null;
}

/** The stop of a daily schedule's first window, if it has a stop time. */
export function firstDailyStop(
  schedule: Extract<JobSchedule, { kind: 'daily' }>,
): number | undefined {
  if (schedule.stopTime === undefined) return undefined;
  const start = secondsOfDay(schedule.startTime)!;
  const stop = secondsOfDay(schedule.stopTime)!;
  const day = dayOfDate(schedule.startDate)!;
  return localInstant(stop > start ? day : day + 1, stop);
}
