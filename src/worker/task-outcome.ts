import type { TaskTimeoutAction } from '../domain/task-timeout-action.js';

/** As the server bounds it (node-protocol-schemas.ts). */
export const MAX_ERROR_MESSAGE = 10_000;

export interface CommandOutcome {
  exit: { code: number | null; signal: NodeJS.Signals | null };
  /** The command ran past the job's task timeout. */
  timedOut: boolean;
  onTimeout: TaskTimeoutAction;
  timeoutSeconds: number;
  uploadsFailed: { name: string; reason: string }[];
  /** The last `openjd_fail:` line of an OpenJD action. */
  failMessage: string | undefined;
}

/** The finish report of a command that ran: success or failure, and why. */
export function finishReport(o: CommandOutcome): Record<string, unknown> {
  const { exit, timedOut, onTimeout } = o;
  let finish: Record<string, unknown>;
  if (timedOut && onTimeout === 'COMPLETE') {
    // Killed by us, so normally no exit code; the server then records none.
    finish = {
      success: true,
      timedOut: true,
      ...(exit.code !== null ? { exitCode: exit.code } : {}),
    };
  } else if (timedOut && onTimeout === 'FAIL') {
    finish = {
      success: false,
      timedOut: true,
      exitCode: exit.code,
      error: {
        name: 'timeout',
        message: `ran longer than the task timeout of ${o.timeoutSeconds} s and was killed`,
      },
    };
  } else if (exit.code === 0 && o.uploadsFailed.length === 0) {
    finish = { success: true, exitCode: 0 };
  } else if (exit.code === 0) {
    const first = o.uploadsFailed[0]!;
    finish = {
      success: false,
      exitCode: 0,
      error: {
        name: 'filesystem-io',
        category: 'SYSTEM',
        message: `${o.uploadsFailed.length} output file(s) could not be uploaded, first ${first.name}: ${first.reason}`,
      },
    };
  } else {
    const how =
      exit.code !== null
        ? `exited with code ${exit.code}`
        : `ended by signal ${exit.signal ?? 'unknown'}`;
    // OpenJD: the action's own openjd_fail message says why; the exit code still decides.
    const message = o.failMessage === undefined ? how : `${o.failMessage} (${how})`;
    finish = {
      success: false,
      exitCode: exit.code,
      error: { category: 'ALGORITHM', message: message.slice(0, MAX_ERROR_MESSAGE) },
    };
  }
  // NOTIFY: the command ran to its own end; its outcome stands, flagged as timed out.
  if (timedOut && onTimeout === 'NOTIFY') finish.timedOut = true;
  return finish;
}
