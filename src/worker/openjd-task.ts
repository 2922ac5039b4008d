import { writeFileSync } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  cancelInfo,
  OPENJD_STEP_TYPE,
  pathMappingFile,
  prepareTask,
  stepRunOf,
  type PreparedTask,
} from '../formats/openjd/openjd-run.js';
import { pathMappingDocument, type PathMappingRule } from '../formats/openjd/path-mapping.js';
import type { LogStream } from './log-shipper.js';
import { readOpenjdMessage } from './openjd-messages.js';
import { redactedEnvNote, type Redactions } from './openjd-redaction.js';
import type { WorkOrder } from './work-order.js';

/** Where what a task's output lines say goes. */
export interface OpenjdLineSinks {
  log: (stream: LogStream, text: string) => void;
  progress: (percent: number) => void;
  status: (text: string) => void;
  fail: (text: string) => void;
}

/**
 * Reads each output line of an OpenJD task's onRun for the messages it may print
 * (openjd-messages.ts). The secret of an `openjd_redacted_env` is learned before the line
 * is logged, so that the line telling it is redacted too; it sets no variable here, since
 * only an environment's onEnter does (openjd-session.ts).
 */
export function openjdLineReader(
  order: WorkOrder,
  redactions: Redactions,
  sinks: OpenjdLineSinks,
): (stream: 'stdout' | 'stderr', line: string) => void {
  const run = stepRunOf(order.job.parameters);
  return (stream, line) => {
    const message = readOpenjdMessage(line);
    if (message?.kind === 'redacted_env' || message?.kind === 'malformed') {
      if (message.secrets) redactions.learn(message.secrets);
    }
    sinks.log(stream, line);
    if (message?.kind === 'progress') sinks.progress(message.percent);
    else if (message?.kind === 'status') sinks.status(message.text);
    else if (message?.kind === 'fail') sinks.fail(message.text);
    else if (message?.kind === 'malformed') sinks.log('worker', `drover: ${message.note}`);
    else if (message?.kind === 'redacted_env' && run) {
      sinks.log('worker', `drover: ${redactedEnvNote(run, false) ?? ''}`);
    }
  };
}

/**
 * For a task of an OpenJD step: writes the path mapping rules and its embedded files into
 * the session directory (the task's working directory) and answers the resolved command.
 * Undefined for any other job type, whose command comes from the type's definition.
 */
export async function prepareOpenjdTask(
  order: WorkOrder,
  sessionDir: string,
  rules: readonly PathMappingRule[],
): Promise<PreparedTask | undefined> {
  if (order.jobType.name !== OPENJD_STEP_TYPE) return undefined;
  const run = stepRunOf(order.job.parameters);
  if (!run) throw new Error('the OpenJD step job has no step to run');
  const prepared = prepareTask(run, order.task.parameters ?? {}, sessionDir, rules);
  await writeRulesFile(sessionDir, rules);
  for (const file of prepared.files) {
    // Written before every run of the action (§6); a retry finds the file read-only.
    await chmod(file.path, 0o600).catch(() => undefined);
    await writeFile(file.path, file.data, { mode: 0o600 });
    await chmod(file.path, file.mode);
  }
  return prepared;
}

/**
 * OpenJD's NOTIFY_THEN_TERMINATE: before the first signal, cancel_info.json tells the command
 * when its grace ends. Written synchronously, so that it is there before SIGTERM is sent.
 */
export function noteCancel(sessionDir: string, graceMs: number): void {
  if (graceMs <= 0) return;
  try {
    writeFileSync(join(sessionDir, 'cancel_info.json'), cancelInfo(Date.now(), graceMs));
  } catch {
    // The signals matter more than the note; a directory gone has no reader left.
  }
}

/** Session.PathMappingRulesFile: written whether there are rules or not, as openjd-sessions does. */
export async function writeRulesFile(
  sessionDir: string,
  rules: readonly PathMappingRule[],
): Promise<void> {
  await writeFile(pathMappingFile(sessionDir), pathMappingDocument(rules), { mode: 0o600 });
}
