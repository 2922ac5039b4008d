export type DbKind = 'sqlite' | 'postgres';

/** The databases named by `--db sqlite|postgres|both`. */
export function databaseKinds(value: string | undefined): DbKind[] {
  if (value === undefined || value === 'both') return ['sqlite', 'postgres'];
  if (value === 'sqlite' || value === 'postgres') return [value];
  throw new Error(`--db must be sqlite, postgres or both, not ${value}`);
}

/** A positive number option, or an error naming it. */
export function positive(name: string, value: string | undefined): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number`);
  return n;
}
