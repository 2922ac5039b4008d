import {
  firstDailyStop,
  firstScheduledStart,
  localDateAndTime,
  parseStoredSchedule,
  secondsOfDay,
  timeOfDayText,
  WEEKDAYS,
  type DayWindow,
  type ScheduleInput,
  type Weekday,
} from '../../domain/job-schedule.js';
import type { JobRow } from '../../store/schema.js';
import { badRequest } from './errors.js';
import { SCHEDULE_CODES, SCHEDULE_KIND_OF_CODE } from './state-mapping.js';
import { asInt, asString } from './values.js';

/*
 * Deadline's job scheduling (reference §3 Props Schd…SunStop, §6 JobInfo Scheduled*) and the
 * engine's schedule (src/domain/job-schedule.ts), both ways:
 *
 * - Once: ScheduledStartDateTime / Props.SchdDate starts it, ScheduledStopDateTime /
 *   Props.SchdStop (optional) suspends it if it is still active.
 * - Daily: the same two, as the first window; ScheduledDays / Props.SchdDays is the day
 *   interval. Only the stop's time of day counts: a stop earlier in the day than the start
 *   falls on the next day.
 * - Custom: <Day>StartTime / <Day>StopTime (Props.MonStart … SunStop), .NET TimeSpans of the
 *   day; TimeSpan.MinValue (-10675199.02:48:05.4775808) is Deadline's "not set".
 *
 * Dates are `dd/MM/yyyy HH:mm` in the server's local time (as the Monitor writes them) or
 * ISO 8601 (as GET shows them).
 */

export const UNSET_TIMESPAN = '-10675199.02:48:05.4775808';
/** Deadline's unset DateTime, 0001-01-01, however it is written. */
const isUnsetDate = (text: string) => text.startsWith('0001-01-01');

/** Props day prefixes, Monday first as WEEKDAYS. */
const PROPS_DAY: Record<Weekday, string> = {
  mon: 'Mon',
  tue: 'Tue',
  wed: 'Wed',
  thu: 'Thu',
  fri: 'Fri',
  sat: 'Sat',
  sun: 'Sun',
};

/** The Props a schedule shows as, in Deadline's order; a save of any of them changes it. */
export const SCHEDULE_PROPS: readonly string[] = [
  'Schd',
  'SchdDays',
  'SchdDate',
  'SchdStop',
  ...WEEKDAYS.flatMap((d) => [`${PROPS_DAY[d]}Start`, `${PROPS_DAY[d]}Stop`]),
];

/** JobInfo day keys: MondayStartTime (Deadline's), and MonStart, TuesStartTime, … */
export const JOB_INFO_DAY_KEY =
  /^(?<day>Mon|Tues?|Wed(?:nes)?|Thu(?:rs)?|Fri|Sat(?:ur)?|Sun)(?:day)?(?<edge>Start|Stop)(?:Time)?$/i;

/** A date-time as Deadline's submitters write it (local `dd/MM/yyyy HH:mm[:ss]`) or ISO 8601. */
export function deadlineDateTime(text: string): number | undefined {
  const m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(text.trim());
  if (m) {
    const [, dd, mm, yyyy, hh, min, ss] = m.map(Number) as number[];
    const at = new Date(yyyy!, mm! - 1, dd, hh, min, ss || 0);
    // 31/02 rolls over to March in Date; Deadline refuses it, and so does this.
    return at.getDate() === dd && at.getMonth() === mm! - 1 ? at.getTime() : undefined;
  }
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text.trim())) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : at;
}

/**
 * Seconds of the day of a TimeSpan (`[0.]hh:mm[:ss[.fffffff]]`); null for "not set"
 * (TimeSpan.MinValue, empty); undefined when it is not a time of day.
 */
function timeSpanSeconds(value: unknown): number | null | undefined {
  const text = asString(value)?.trim() ?? '';
  if (text === '' || text === UNSET_TIMESPAN) return null;
  const m = /^(?:0+\.)?(\d{1,2}:\d{2}(?::\d{2})?)(?:\.\d{1,7})?$/.exec(text);
  return m ? secondsOfDay(m[1]!) : undefined;
}

/** A time of day as a .NET TimeSpan string, e.g. "09:30:00". */
function timeSpanText(timeOfDay: string): string {
  const seconds = secondsOfDay(timeOfDay)!;
  const text = timeOfDayText(seconds);
  return text.length === 5 ? `${text}:00` : text;
}

function dateField(value: unknown, what: string, required: boolean): number | undefined {
  const text = asString(value)?.trim() ?? '';
  if (text === '' || isUnsetDate(text)) {
    if (required) throw badRequest(`${what} must be set (dd/MM/yyyy HH:mm)`);
    return undefined;
  }
  const at = deadlineDateTime(text);
  if (at === undefined) throw badRequest(`${what} "${text}" is not a date (dd/MM/yyyy HH:mm)`);
  return at;
}

interface ScheduleValues {
  kind: string;
  start: unknown;
  stop: unknown;
  days: unknown;
  /** Day windows by weekday, from whichever keys name them. */
  windows: Array<{ day: Weekday; edge: 'start' | 'stop'; key: string; value: unknown }>;
}

/** The engine's schedule from Deadline's values; null for None. `names` words the errors. */
function scheduleOfValues(
  v: ScheduleValues,
  names: { start: string; stop: string; days: string },
): ScheduleInput | null {
  if (v.kind === 'none') return null;
  if (v.kind === 'custom') {
    const days: Partial<Record<Weekday, DayWindow>> = {};
    for (const { day, edge, key, value } of v.windows) {
      const seconds = timeSpanSeconds(value);
      if (seconds === undefined) {
        throw badRequest(`${key} "${asString(value) ?? ''}" is not a time of day (hh:mm:ss)`);
      }
      if (seconds !== null) days[day] = { ...days[day], [edge]: timeOfDayText(seconds) };
    }
    return { kind: 'custom', days };
  }
  const start = dateField(v.start, names.start, true)!;
  const stop = dateField(v.stop, names.stop, false);
  if (stop !== undefined && stop <= start) {
    throw badRequest(`${names.stop} must be after ${names.start}`);
  }
  if (v.kind === 'once') return { kind: 'once', start, ...(stop !== undefined ? { stop } : {}) };
  const everyDays = v.days === undefined || v.days === '' ? 1 : asInt(v.days);
  if (everyDays === undefined || everyDays < 1) {
    throw badRequest(`${names.days} must be a whole number of at least 1`);
  }
  const first = localDateAndTime(start);
  return {
    kind: 'daily',
    startDate: first.date,
    startTime: timeOfDayText(first.seconds),
    ...(stop !== undefined ? { stopTime: timeOfDayText(localDateAndTime(stop).seconds) } : {}),
    everyDays,
  };
}

function kindOf(value: unknown, what: string): string {
  const text = asString(value)?.trim().toLowerCase() ?? '';
  if (text === '') return 'none';
  const kind = Object.hasOwn(SCHEDULE_CODES, text)
    ? text
    : /^\d$/.test(text)
      ? SCHEDULE_KIND_OF_CODE[Number(text)]
      : undefined;
  if (kind === undefined) {
    throw badRequest(`${what} must be None, Once, Daily or Custom (0-3), not "${text}"`);
  }
  return kind;
}

/** JobInfo ScheduledType and its keys → the engine's schedule; undefined for None. */
export function scheduleOfJobInfo(
  jobInfo: Record<string, unknown>,
  get: (key: string) => unknown,
): ScheduleInput | undefined {
  const windows: ScheduleValues['windows'] = [];
  for (const [key, value] of Object.entries(jobInfo)) {
    const groups = JOB_INFO_DAY_KEY.exec(key)?.groups;
    if (!groups) continue;
    windows.push({
      day: groups.day!.slice(0, 3).toLowerCase() as Weekday,
      edge: groups.edge!.toLowerCase() as 'start' | 'stop',
      key: `JobInfo ${key}`,
      value,
    });
  }
  const schedule = scheduleOfValues(
    {
      kind: kindOf(get('ScheduledType'), 'JobInfo ScheduledType'),
      start: get('ScheduledStartDateTime'),
      stop: get('ScheduledStopDateTime'),
      days: get('ScheduledDays'),
      windows,
    },
    {
      start: 'JobInfo ScheduledStartDateTime',
      stop: 'JobInfo ScheduledStopDateTime',
      days: 'JobInfo ScheduledDays',
    },
  );
  return schedule ?? undefined;
}

/** Props.Schd … SunStop as a `save` leaves them → the engine's schedule; null for None. */
export function scheduleOfProps(props: Record<string, unknown>): ScheduleInput | null {
  const kind = asInt(props.Schd);
  const name = kind === undefined ? undefined : SCHEDULE_KIND_OF_CODE[kind];
  if (name === undefined) {
    throw badRequest('Props.Schd must be 0 (None), 1 (Once), 2 (Daily) or 3 (Custom).');
  }
  return scheduleOfValues(
    {
      kind: name,
      start: props.SchdDate,
      stop: props.SchdStop,
      days: props.SchdDays,
      windows: WEEKDAYS.flatMap((day) =>
        (['start', 'stop'] as const).map((edge) => {
          const key = `${PROPS_DAY[day]}${edge === 'start' ? 'Start' : 'Stop'}`;
          return { day, edge, key: `Props.${key}`, value: props[key] };
        }),
      ),
    },
    { start: 'Props.SchdDate', stop: 'Props.SchdStop', days: 'Props.SchdDays' },
  );
}

/**
 * The job's schedule as Props. A job without a schedule shows its submission time as
 * SchdDate, as Deadline does (its scheduled start defaults to the submission).
 */
export function scheduleProps(
  job: JobRow,
  scheduledDays: number,
  date: (ms: number | null | undefined) => string,
): Record<string, unknown> {
  const schedule = parseStoredSchedule(job.schedule_json);
  const props: Record<string, unknown> = {
    Schd: SCHEDULE_CODES[schedule?.kind ?? 'none'],
    SchdDays: schedule?.kind === 'daily' ? schedule.everyDays : scheduledDays,
    SchdDate: date(schedule ? (firstScheduledStart(schedule) ?? job.created_at) : job.created_at),
    SchdStop: date(
      schedule?.kind === 'once'
        ? schedule.stop
        : schedule?.kind === 'daily'
          ? firstDailyStop(schedule)
          : undefined,
    ),
  };
  for (const day of WEEKDAYS) {
    const window = schedule?.kind === 'custom' ? schedule.days[day] : undefined;
    props[`${PROPS_DAY[day]}Start`] = window?.start ? timeSpanText(window.start) : UNSET_TIMESPAN;
    props[`${PROPS_DAY[day]}Stop`] = window?.stop ? timeSpanText(window.stop) : UNSET_TIMESPAN;
  }
  return props;
}
