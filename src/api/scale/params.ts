import type { FastifyRequest } from 'fastify';

/*
 * Scale's parameter parsing (util/rest.py): every parser reads the query string first,
 * then the JSON body, so GET filters and POST bodies share one path. Lists are repeated
 * query keys (never split on commas); in a body a scalar counts as a one-element list.
 * Parameters a request does not read are ignored.
 */

export class ScaleError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
  ) {
    super(detail);
    this.name = 'ScaleError';
  }
}

export const badParameter = (detail: string): ScaleError => new ScaleError(400, detail);
export const notFoundError = (): ScaleError => new ScaleError(404, 'Not found.');

type Raw = unknown;

export class Params {
  private readonly query: Record<string, Raw>;
  private readonly body: Record<string, Raw>;

  constructor(
    request: FastifyRequest,
    private readonly now: number,
  ) {
    this.query = (request.query ?? {}) as Record<string, Raw>;
    const body = request.body;
    this.body =
      typeof body === 'object' && body !== null && !Array.isArray(body)
        ? (body as Record<string, Raw>)
        : {};
  }

  private raw(name: string): Raw {
    return this.query[name] !== undefined ? this.query[name] : this.body[name];
  }

  has(name: string): boolean {
    return this.raw(name) !== undefined;
  }

  private one(name: string): Raw {
    const value = this.raw(name);
    return Array.isArray(value) && this.query[name] !== undefined ? value[value.length - 1] : value;
  }

  private many(name: string): Raw[] | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    return Array.isArray(value) ? value : [value];
  }

  string(name: string, accepted?: readonly string[]): string | undefined {
    const value = this.one(name);
    if (value === undefined || value === null) return undefined;
    const text = String(value);
    if (accepted && !accepted.includes(text)) {
      throw badParameter(`Parameter "${name}" values must be one of: [${accepted.join(', ')}]`);
    }
    return text;
  }

  requiredString(name: string): string {
    const value = this.string(name);
    if (value === undefined) throw badParameter(`Missing required parameter: "${name}"`);
    return value;
  }

  strings(name: string, accepted?: readonly string[]): string[] | undefined {
    const values = this.many(name)?.map(String);
    if (values && accepted && values.some((v) => !accepted.includes(v))) {
      throw badParameter(`Parameter "${name}" values must be one of: [${accepted.join(', ')}]`);
    }
    return values;
  }

  int(name: string): number | undefined {
    const value = this.one(name);
    if (value === undefined || value === null) return undefined;
    return toInt(name, value);
  }

  requiredInt(name: string): number {
    const value = this.int(name);
    if (value === undefined) throw badParameter(`Missing required parameter: "${name}"`);
    return value;
  }

  ints(name: string): number[] | undefined {
    return this.many(name)?.map((v) => toInt(name, v));
  }

  bool(name: string): boolean | undefined {
    const value = this.one(name);
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'boolean') return value;
    const text = String(value).trim().toLowerCase();
    if (['true', 't', '1'].includes(text)) return true;
    if (['false', 'f', '0'].includes(text)) return false;
    throw badParameter(`Parameter must be a valid boolean: "${name}"`);
  }

  objectList(name: string): Record<string, unknown>[] {
    return (this.many(name) ?? []).map((v) => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) {
        throw badParameter(`Job types argument invalid: ${JSON.stringify(v)} is not an object`);
      }
      return v as Record<string, unknown>;
    });
  }

  object(name: string): Record<string, unknown> | undefined {
    const value = this.one(name);
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw badParameter(`Parameter must be a valid JSON object: "${name}"`);
    }
    return value as Record<string, unknown>;
  }

  /** An ISO-8601 datetime with Z or +hh:mm, or a duration subtracted from now; ms. */
  timestamp(name: string): number | undefined {
    const value = this.one(name);
    if (value === undefined || value === null) return undefined;
    const ms = parseTimestamp(String(value), this.now);
    if (ms === undefined) throw badParameter(`Invalid ISO timestamp format for parameter: ${name}`);
    return ms;
  }

  /** Both ends of a window, checked as Scale's check_time_range does. */
  timeRange(startName = 'started', endName = 'ended'): { started?: number; ended?: number } {
    const started = this.timestamp(startName);
    const ended = this.timestamp(endName);
    if (started !== undefined && ended !== undefined) {
      if (started === ended) throw badParameter('Start and end values must be different');
      if (started > ended) throw badParameter('Start time must come before end time');
    }
    return {
      ...(started !== undefined ? { started } : {}),
      ...(ended !== undefined ? { ended } : {}),
    };
  }
}

function toInt(name: string, value: Raw): number {
  let n: number | undefined;
  if (typeof value === 'number' && Number.isInteger(value)) n = value;
  else if (typeof value === 'string' && /^\s*[-+]?\d+\s*$/.test(value)) n = Number(value.trim());
  if (n === undefined) throw badParameter(`Parameter must be a valid integer: "${name}"`);
  // Past 2^53 a number is no longer exact, and past 2^63 PostgreSQL refused it with a 500.
  if (!Number.isSafeInteger(n)) {
    throw badParameter(
      `Parameter "${name}" must be an integer from ${Number.MIN_SAFE_INTEGER} to ${Number.MAX_SAFE_INTEGER}`,
    );
  }
  return n;
}

const DURATION =
  /^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;
const DATETIME =
  /^(\d{4})-(\d{1,2})-(\d{1,2})[T ](\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:[.,](\d{1,6})\d*)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)$/;

/** Milliseconds of an ISO-8601 duration P[nD][T[nH][nM][nS]] (no years, months or weeks). */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text);
  if (!m || text === 'P' || text === 'PT') return undefined;
  const [d, h, min, s] = [m[1], m[2], m[3], m[4]].map((v) => (v ? Number(v) : 0)) as [
    number,
    number,
    number,
    number,
  ];
  return Math.round(((d * 24 + h) * 60 + min) * 60_000 + s * 1000);
}

export function parseTimestamp(text: string, now: number): number | undefined {
  const value = text.trim();
  if (value.startsWith('P')) {
    const ms = parseDuration(value);
    return ms === undefined ? undefined : now - ms;
  }
  if (!value.includes('Z') && !value.includes('+')) return undefined;
  const m = DATETIME.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  let offset = 0;
  if (zone && zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    offset = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0'));
  }
  const ms = Date.UTC(
    Number(y),
    Number(mo) - 1,
    Number(d),
    Number(h),
    Number(mi),
    Number(s ?? 0),
    Math.floor(Number((frac ?? '0').padEnd(6, '0')) / 1000),
  );
  const check = new Date(ms);
  if (check.getUTCMonth() !== Number(mo) - 1 || check.getUTCDate() !== Number(d)) return undefined;
  if (Number(h) > 23 || Number(mi) > 59 || Number(s ?? 0) > 59) return undefined;
  return ms - offset * 60_000;
}

/** DRF's datetime: UTC with Z, microseconds only when not zero. */
export function scaleTime(ms: number | null | undefined): string | null {
  if (ms === null || ms === undefined) return null;
  const iso = new Date(ms).toISOString();
  return iso.endsWith('.000Z') ? iso.replace('.000Z', 'Z') : iso.replace(/\.(\d{3})Z$/, '.$1000Z');
}
