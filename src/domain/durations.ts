import { invalid } from './errors.js';

const UNIT_MS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** "30d", "12h", "90m", "45s", "2w": a positive span in milliseconds; else a VALIDATION error. */
export function parseSpan(text: string): number {
  const match = /^\s*(\d+)\s*([smhdw])\s*$/i.exec(text);
  const amount = match ? Number(match[1]) : NaN;
  if (!match || !(amount > 0) || !Number.isSafeInteger(amount)) {
    throw invalid(
      `"${text}" is not a duration; write a whole number and a unit, e.g. 30d, 12h, 90m`,
    );
  }
  return amount * UNIT_MS[match[2]!.toLowerCase()]!;
}
