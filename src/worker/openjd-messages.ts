/*
 * The lines an OpenJD action may print to tell the render manager how it is doing
 * (specification 2023-09, "Stdout/Stderr Messages"), as openjd-sessions reads them: the
 * whole line is `openjd_<kind>: <message>`. Drover takes progress, status and fail.
 * openjd_env, openjd_unset_env and openjd_redacted_env change the environment of the
 * session's later actions; Drover refuses environments at submission and runs one action
 * per session, so there is no later action, and those lines stay plain output.
 */

export type OpenjdMessage =
  | { kind: 'progress'; percent: number }
  | { kind: 'status'; text: string }
  | { kind: 'fail'; text: string }
  /** A message Drover understands that is malformed: the note says how. */
  | { kind: 'malformed'; note: string };

const MESSAGE = /^openjd_(progress|status|fail): (.+)$/;

export function readOpenjdMessage(line: string): OpenjdMessage | undefined {
  const match = MESSAGE.exec(line);
  if (!match) return undefined;
  const [, kind, text = ''] = match;
  if (kind === 'status') return { kind: 'status', text };
  if (kind === 'fail') return { kind: 'fail', text };
  // Python's float(): surrounding blanks allowed, nothing else around the number.
  const trimmed = text.trim();
  const percent = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(trimmed) ? Number(trimmed) : NaN;
  if (!(percent >= 0 && percent <= 100)) {
    return { kind: 'malformed', note: 'openjd_progress must be a number from 0 to 100' };
  }
  return { kind: 'progress', percent };
}
