import { createInterface } from 'node:readline';
import { cgroupPopulated, removeCgroup, signalTask, type TaskTarget } from './task-kill.js';

/*
 * The guard: a small process beside each worker, in a session of its own, that kills the
 * worker's tasks when the worker dies however it dies (SIGKILL included). The worker tells
 * it, one JSON line on its stdin per change, which tasks run and where; the worker's death
 * closes that pipe (the kernel closes a dead process's files), and the guard kills every
 * task it was told about, removes their cgroups, and exits. A worker that stops normally
 * has killed its tasks itself, so the guard finds nothing left.
 *
 * The parent-death signal on each command covers the command itself even if the guard is
 * gone; the guard covers what the command started.
 *
 * Run as: node task-guard.js <node name> [worker cgroup dir]
 */

export type GuardMessage =
  | { op: 'add'; executionId: number; cgroup?: string | undefined }
  | { op: 'pid'; executionId: number; pid: number }
  | { op: 'remove'; executionId: number };

const [nodeName = '', workerCgroup] = process.argv.slice(2);
const tasks = new Map<number, TaskTarget>();

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on('line', (line) => {
  let message: GuardMessage;
  try {
    message = JSON.parse(line) as GuardMessage;
  } catch {
    return;
  }
  if (message.op === 'add') {
    tasks.set(message.executionId, {
      executionId: message.executionId,
      nodeName,
      cgroup: message.cgroup,
    });
  } else if (message.op === 'pid') {
    const task = tasks.get(message.executionId);
    if (task) task.pid = message.pid;
  } else {
    tasks.delete(message.executionId);
  }
});
lines.once('close', () => void killEverything().finally(() => process.exit(0)));

async function killEverything(): Promise<void> {
  // A process may fork between a scan of /proc and the kill; a few rounds catch the child.
  for (let round = 0; round < 5 && tasks.size > 0; round++) {
    for (const task of tasks.values()) signalTask(task, 'SIGKILL', true);
    await delay(50);
  }
  for (let i = 0; i < 100; i++) {
    const left = [...tasks.values()].filter(
      (task) => task.cgroup && (cgroupPopulated(task.cgroup) || !removeCgroup(task.cgroup)),
    );
    if (left.length === 0) break;
    await delay(50);
  }
  if (workerCgroup) removeCgroup(workerCgroup);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
