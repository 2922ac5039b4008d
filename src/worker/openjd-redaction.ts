import type { StepRun } from '../formats/openjd/openjd-run.js';
import type { Secrets } from './openjd-messages.js';

/*
 * The secrets an OpenJD session has been told by `openjd_redacted_env: NAME=VALUE` lines
 * (openjd-messages.ts), kept out of every log line the worker sends from then on, as
 * openjd-sessions' ActionMonitoringFilter does: each occurrence of a secret becomes
 * ******** (overlapping ones merged into one), and a line that is exactly one of the middle
 * lines of a multi-line secret becomes ********. The line that tells the secret is blanked
 * too, since it is redacted after the secret is learned. A session's secrets last as long
 * as the session: its later tasks and its onExit actions are redacted as well.
 */

export const REDACTED = '********';
const TOKEN = 'openjd_redacted_env:';

export class Redactions {
  private readonly values = new Set<string>();
  private readonly lines = new Set<string>();

  learn(secrets: Secrets): void {
    for (const v of secrets.values) this.values.add(v);
    for (const l of secrets.lines) this.lines.add(l);
  }

  apply(text: string): string {
    if (this.values.size === 0 && this.lines.size === 0) return text;
    if (this.lines.has(text)) return REDACTED;
    const spans: [number, number][] = [];
    for (const value of this.values) {
      for (let at = text.indexOf(value); at !== -1; at = text.indexOf(value, at + 1)) {
        spans.push([at, at + value.length]);
      }
    }
    if (spans.length === 0) return text;
    spans.sort((a, b) => a[0] - b[0]);
    let out = '';
    let from = 0;
    let [start, end] = spans[0]!;
    for (const [s, e] of spans.slice(1)) {
      if (s <= end) end = Math.max(end, e);
      else {
        out += text.slice(from, start) + REDACTED;
        from = end;
        [start, end] = [s, e];
      }
    }
    return out + text.slice(from, start) + REDACTED + text.slice(end);
  }
}

/**
 * A command about to run that would print a secret (`echo "openjd_redacted_env: K=V"`):
 * everything after the token is blanked before the worker logs the command line, since the
 * secret is not known until the command prints it (openjd-sessions does the same).
 */
export function redactCommand(text: string): string {
  const at = text.indexOf(TOKEN);
  return at === -1 ? text : `${text.slice(0, at + TOKEN.length)} ${REDACTED}`;
}

/**
 * Why an openjd_redacted_env sets no variable, if it does not: the template lacks the
 * extension (openjd-sessions still redacts, and warns), or the action is not an onEnter.
 */
export function redactedEnvNote(run: StepRun, entering: boolean): string | undefined {
  if (!run.redactedEnv) {
    return 'openjd_redacted_env needs the REDACTED_ENV_VARS extension in the template; the value is redacted, no variable is set';
  }
  if (!entering)
    return 'openjd_redacted_env sets a variable only in an onEnter; the value is redacted';
  return undefined;
}
