/*
 * The lines an OpenJD action may print to tell the render manager how it is doing
 * (specification 2023-09, "Stdout/Stderr Messages"), as openjd-sessions reads them: the
 * whole line is `openjd_<kind>: <message>`. Drover takes progress, status and fail from
 * every action, and openjd_env (`NAME=VALUE`) and openjd_unset_env (`NAME`) from an
 * environment's onEnter, where they change the environment variables of the session's
 * later actions (openjd-session.ts). openjd_redacted_env (an extension) stays plain output.
 */

export type OpenjdMessage =
  | { kind: 'progress'; percent: number }
  | { kind: 'status'; text: string }
  | { kind: 'fail'; text: string }
  | { kind: 'env'; name: string; value: string }
  | { kind: 'unset_env'; name: string }
  /** A message Drover understands that is malformed: the note says how. */
  | { kind: 'malformed'; note: string };

const MESSAGE = /^openjd_(progress|status|fail|env|unset_env): (.+)$/;
const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function readOpenjdMessage(line: string): OpenjdMessage | undefined {
  const match = MESSAGE.exec(line);
  if (!match) return undefined;
  const [, kind, text = ''] = match;
  if (kind === 'status') return { kind: 'status', text };
  if (kind === 'fail') return { kind: 'fail', text };
  if (kind === 'env') {
    const eq = text.indexOf('=');
    const name = eq === -1 ? '' : text.slice(0, eq).trim();
    if (!VARIABLE.test(name)) {
      return { kind: 'malformed', note: 'openjd_env must be NAME=VALUE with a variable name' };
    }
    return { kind: 'env', name, value: text.slice(eq + 1) };
  }
  if (kind === 'unset_env') {
    const name = text.trim();
    if (!VARIABLE.test(name)) {
      return { kind: 'malformed', note: 'openjd_unset_env must name a variable' };
    }
    return { kind: 'unset_env', name };
  }
  // Python's float(): surrounding blanks allowed, nothing else around the number.
  const trimmed = text.trim();
  const percent = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(trimmed) ? Number(trimmed) : NaN;
  if (!(percent >= 0 && percent <= 100)) {
    return { kind: 'malformed', note: 'openjd_progress must be a number from 0 to 100' };
  }
  return { kind: 'progress', percent };
}
