/*
 * Text for people: aligned tables, key/value blocks, durations, times and progress bars.
 * Written here rather than pulled in as a dependency; it is a few dozen lines.
 */

export interface Column<T> {
  header: string;
  value: (row: T) => string | number | boolean | null | undefined;
  /** Right-align (numbers). */
  right?: boolean;
  /** Longer cells are cut with an ellipsis. */
  max?: number;
}

const cell = (value: string | number | boolean | null | undefined): string =>
  value === null || value === undefined ? '-' : String(value).replace(/\s*\n\s*/g, ' ');

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

/** A table with a header row, columns separated by two spaces, no trailing blanks. */
export function table<T>(columns: readonly Column<T>[], rows: readonly T[]): string {
  const cells = rows.map((row) =>
    columns.map((c) => {
      const text = cell(c.value(row));
      return c.max ? truncate(text, c.max) : text;
    }),
  );
  const widths = columns.map((c, i) =>
    Math.max(c.header.length, ...cells.map((r) => (r[i] ?? '').length)),
  );
  const line = (values: readonly string[]): string =>
    values
      .map((v, i) => {
        const width = widths[i] ?? 0;
        return columns[i]?.right ? v.padStart(width) : v.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n') + '\n';
}

/** `key: value` lines with the values aligned; undefined values are left out. */
export function details(pairs: ReadonlyArray<readonly [string, unknown]>): string {
  const shown = pairs.filter(([, v]) => v !== undefined);
  const width = Math.max(0, ...shown.map(([k]) => k.length + 1));
  return shown.map(([k, v]) => `${`${k}:`.padEnd(width)}  ${cell(v as string)}`).join('\n') + '\n';
}

/** 2d 03h, 1h 02m, 3m 07s, 12s, 850ms. */
export function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (d > 0) return `${d}d ${String(h).padStart(2, '0')}h`;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m ${String(sec).padStart(2, '0')}s`;
  return `${sec}s`;
}

/** The time between two ISO stamps; `end` missing means until now. */
export function elapsed(start: string | null, end: string | null, now = Date.now()): string {
  if (!start) return '-';
  const to = end ? Date.parse(end) : now;
  return duration(to - Date.parse(start));
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** An ISO stamp as local `YYYY-MM-DD HH:MM:SS` (set TZ to choose the zone). */
export function timestamp(iso: string | null | undefined): string {
  if (!iso) return '-';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return (
    `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ` +
    `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`
  );
}

/** `[########------------]` for a fraction 0…1. */
export function progressBar(fraction: number, width = 30): string {
  const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const full = Math.round(f * width);
  return `[${'#'.repeat(full)}${'-'.repeat(width - full)}]`;
}

/** 3/10 (30%) */
export function fraction(done: number, total: number): string {
  const percent = total === 0 ? 0 : Math.floor((100 * done) / total);
  return `${done}/${total} (${percent}%)`;
}

export function bytes(n: number | undefined): string {
  if (n === undefined) return '-';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${n} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** A size the API gives in MiB (node memory, a task's needs), as bytes() writes it. */
export const mebibytes = (n: number | undefined): string =>
  n === undefined ? '-' : bytes(n * 1024 * 1024);

/** A timeout in seconds; 0 is none. */
export const timeoutSeconds = (seconds: number): string =>
  seconds > 0 ? duration(seconds * 1000) : 'none';

export const plural = (n: number, word: string, many = `${word}s`): string =>
  `${n} ${n === 1 ? word : many}`;
