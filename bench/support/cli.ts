export type DbKind = 'sqlite' | 'postgres';

/** Drover's node protocols: acquire → start → finish, or claims of several with finishes. */
export type ProtocolMode = 'single' | 'batched';

/** The databases named by `--db sqlite|postgres|both`. */
export function databaseKinds(value: string | undefined): DbKind[] {
  if (value === undefined || value === 'both') return ['sqlite', 'postgres'];
  if (value === 'sqlite' || value === 'postgres') return [value];
  throw new Error(`--db must be sqlite, postgres or both, not ${value}`);
}

/** The protocols named by `--mode single|batched|both`. */
export function protocolModes(value: string | undefined): ProtocolMode[] {
  if (value === undefined || value === 'both') return ['single', 'batched'];
  if (value === 'single' || value === 'batched') return [value];
  throw new Error(`--mode must be single, batched or both, not ${value}`);
}

/** A positive number option, or an error naming it. */
export function positive(name: string, value: string | undefined): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number`);
  return n;
}
