import { writeFileSync } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  cancelInfo,
  OPENJD_STEP_TYPE,
  prepareTask,
  stepRunOf,
  type PreparedTask,
} from '../formats/openjd/openjd-run.js';
import type { WorkOrder } from './work-order.js';

/**
 * For a task of an OpenJD step: writes its embedded files into the session directory
 * (the task's working directory) and answers the resolved command. Undefined for any other
 * job type, whose command comes from the type's definition.
 */
export async function prepareOpenjdTask(
  order: WorkOrder,
  sessionDir: string,
): Promise<PreparedTask | undefined> {
  if (order.jobType.name !== OPENJD_STEP_TYPE) return undefined;
  const run = stepRunOf(order.job.parameters);
  if (!run) throw new Error('the OpenJD step job has no step to run');
  const prepared = prepareTask(run, order.task.parameters ?? {}, sessionDir);
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
