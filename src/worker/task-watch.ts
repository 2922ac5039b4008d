import { taskTimeoutActionOf, type TaskTimeoutAction } from '../domain/task-timeout-action.js';
import type { LogShipper } from './log-shipper.js';
import type { Redactions } from './openjd-redaction.js';
import { openjdLineReader } from './openjd-task.js';
import { ProgressReporter, progressReader } from './progress.js';
import { definitionOf, type WorkOrder } from './work-order.js';

/*
 * What the worker watches while a command runs: its output lines (shipped as the log, and
 * read for progress and status) and its timeout.
 */

/** As the server bounds it (progress-reports.ts). */
const MAX_STATUS_MESSAGE = 1000;

type Report = (what: string, body: Record<string, unknown>) => Promise<unknown>;

export interface OutputWatch {
  onLine: (stream: 'stdout' | 'stderr', line: string) => void;
  progress: ProgressReporter;
  status: ProgressReporter<string>;
}

/**
 * Reads each output line. An OpenJD action says how it is doing with its own messages, and
 * only with them (`onFail` takes the text of its last `openjd_fail:`; openjd-task.ts reads
 * them, and the secrets `openjd_redacted_env` names); any other command's progress is read
 * by the job type's pattern.
 */
export function watchOutput(
  order: WorkOrder,
  openjd: Redactions | undefined,
  logs: LogShipper,
  report: Report,
  onFail: (text: string) => void,
): OutputWatch {
  const progress = new ProgressReporter((value) => report('progress', { progress: value }));
  const status = new ProgressReporter<string>((text) =>
    report('progress', { status: text.slice(0, MAX_STATUS_MESSAGE) }),
  );
  if (openjd) {
    const onLine = openjdLineReader(order, openjd, {
      log: (stream, text) => logs.add(stream, text),
      progress: (percent) => progress.set(percent),
      status: (text) => status.set(text),
      fail: onFail,
    });
    return { onLine, progress, status };
  }
  const readProgress = progressReader(definitionOf(order).progressPattern);
  const onLine = (stream: 'stdout' | 'stderr', line: string): void => {
    logs.add(stream, line);
    const value = readProgress(line);
    if (value !== undefined) progress.set(value);
  };
  return { onLine, progress, status };
}

export interface TimeoutWatch {
  seconds: number;
  action: TaskTimeoutAction;
  /** Stops the timer once the command has exited. */
  clear: () => void;
}

/**
 * The job's timeout action: FAIL and COMPLETE kill the command (and report a failure or a
 * success), NOTIFY lets it run on and only reports that it timed out.
 */
export function watchTimeout(
  order: WorkOrder,
  logs: LogShipper,
  onTimeout: (kill: boolean) => void,
): TimeoutWatch {
  const seconds = order.job.taskTimeout;
  const action = taskTimeoutActionOf(order.job.taskTimeoutAction);
  const past = `drover: the task ran past its timeout of ${seconds} s`;
  const timer =
    seconds > 0
      ? setTimeout(() => {
          if (action === 'NOTIFY') {
            logs.add('worker', `${past}; it runs on (timeout action NOTIFY)`);
            onTimeout(false);
            return;
          }
          logs.add(
            'worker',
            action === 'COMPLETE'
              ? `${past}; killing it and completing the task (timeout action COMPLETE)`
              : `${past}; killing it`,
          );
          onTimeout(true);
        }, seconds * 1000)
      : undefined;
  return { seconds, action, clear: () => clearTimeout(timer) };
}
