/*
 * The lines an OpenJD action may print to tell the render manager how it is doing
 * (specification 2023-09, "Stdout/Stderr Messages"), as openjd-sessions reads them: the
 * whole line is `openjd_<kind>: <message>`. Drover takes progress, status and fail from
 * every action, and openjd_env / openjd_redacted_env (`NAME=VALUE`, or the JSON string
 * `"NAME=VALUE"` for a value with newlines) and openjd_unset_env (`NAME`) from an
 * environment's onEnter, where they change the environment variables of the session's
 * later actions (openjd-session.ts). The value of an openjd_redacted_env is a secret from
 * any action: it is blanked out of the log from that line on (openjd-redaction.ts).
 */

export type OpenjdMessage =
  | { kind: 'progress'; percent: number }
  | { kind: 'status'; text: string }
  | { kind: 'fail'; text: string }
  | { kind: 'env'; name: string; value: string }
  | { kind: 'unset_env'; name: string }
  /** `secrets`: what the log must no longer show. */
  | { kind: 'redacted_env'; name: string; value: string; secrets: Secrets }
  /** A message Drover understands that is malformed: the note says how. */
  | { kind: 'malformed'; note: string; secrets?: Secrets };

/**
 * As openjd-sessions keeps them: `values` are blanked wherever they occur in a line (the
 * value, its JSON-escaped form, the first and last lines of a multi-line one); `lines`,
 * the middle lines of a multi-line value, only blank a log line that is exactly one of
 * them, so that a short middle line does not blank every line that contains it.
 */
export interface Secrets {
  values: string[];
  lines: string[];
}

const MESSAGE = /^openjd_(progress|status|fail|env|redacted_env|unset_env): (.+)$/;
const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PLAIN_ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;
const JSON_ASSIGNMENT = /^"[A-Za-z_][A-Za-z0-9_]*=/;

type Assignment = { name: string; value: string; original?: string } | undefined;

/** `NAME=VALUE`, or `"NAME=VALUE"` as a JSON string (openjd-sessions' two forms). */
function readAssignment(message: string): Assignment {
  if (PLAIN_ASSIGNMENT.test(message)) {
    const eq = message.indexOf('=');
    return { name: message.slice(0, eq), value: message.slice(eq + 1) };
  }
  if (!JSON_ASSIGNMENT.test(message)) return undefined;
  let decoded: unknown;
  try {
    decoded = JSON.parse(message);
  } catch {
    return undefined;
  }
  if (typeof decoded !== 'string') return undefined;
  const eq = decoded.indexOf('=');
  const name = decoded.slice(0, eq);
  if (!VARIABLE.test(name)) return undefined;
  return { name, value: decoded.slice(eq + 1), original: message.slice(message.indexOf('=') + 1) };
}

function secretsOf(value: string, original?: string): Secrets {
  const parts = value.split('\n');
  const ends = parts.length === 1 ? [] : [parts[0]!, parts.at(-1)!];
  const values = [value, ...(original === undefined ? [] : [original]), ...ends];
  return {
    values: [...new Set(values.filter((s) => s !== ''))],
    lines: parts.slice(1, -1).filter((s) => s !== ''),
  };
}

export function readOpenjdMessage(line: string): OpenjdMessage | undefined {
  const match = MESSAGE.exec(line);
  if (!match) return undefined;
  const [, kind, text = ''] = match;
  if (kind === 'status') return { kind: 'status', text };
  if (kind === 'fail') return { kind: 'fail', text };
  if (kind === 'env') {
    const assignment = readAssignment(text.trimStart());
    if (!assignment) {
      return { kind: 'malformed', note: 'openjd_env must be NAME=VALUE with a variable name' };
    }
    return { kind: 'env', name: assignment.name, value: assignment.value };
  }
  if (kind === 'redacted_env') {
    const message = text.trimStart();
    const assignment = readAssignment(message);
    if (!assignment) {
      // Whatever it held may still be the secret: it is blanked all the same.
      const eq = message.indexOf('=');
      return {
        kind: 'malformed',
        note: `openjd_redacted_env must be NAME=VALUE with a variable name (${eq === -1 ? 'no "="' : 'not a variable name'}); no variable is set`,
        secrets: secretsOf(eq === -1 ? message : message.slice(eq + 1)),
      };
    }
    const { name, value, original } = assignment;
    return { kind: 'redacted_env', name, value, secrets: secretsOf(value, original) };
  }
  if (kind === 'unset_env') {
    const name = text.trimStart();
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
