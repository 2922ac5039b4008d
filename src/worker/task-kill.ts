import { readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/*
 * The ways to reach every process of a task, shared by the worker and by its guard (the
 * process that kills a dead worker's tasks). Each is synchronous so that the guard, woken by
 * its worker's death, does its whole job before anything else runs.
 *
 * - the task's cgroup (cgroup.kill reaches every member, whatever session it made);
 * - the task's process group (the command runs detached, as the leader of its own group);
 * - the task's environment: every process a task starts inherits DROVER_NODE_NAME and
 *   DROVER_EXECUTION_ID, which /proc shows, so a process that left the group (setsid, a
 *   double fork) is still found, unless it cleared its environment.
 */

export interface TaskTarget {
  executionId: number;
  nodeName: string;
  /** The command's pid, which is also its process group. */
  pid?: number | undefined;
  /** The task's cgroup directory, when it has one. */
  cgroup?: string | undefined;
}

/**
 * Sends a signal to every process of the task that can be found. The /proc scan reads every
 * process's environment (measured: 10 ms per 100 processes), so by default it runs only where no
 * cgroup says who is a member.
 */
export function signalTask(
  target: TaskTarget,
  signal: NodeJS.Signals,
  scan = target.cgroup === undefined,
): void {
  if (target.cgroup) {
    if (signal === 'SIGKILL') {
      try {
        writeFileSync(join(target.cgroup, 'cgroup.kill'), '1');
      } catch {
        // the cgroup is gone, or this kernel has no cgroup.kill: the means below remain
      }
    }
    for (const pid of cgroupMembers(target.cgroup)) kill(pid, signal);
  }
  if (target.pid !== undefined) kill(-target.pid, signal);
  if (scan) for (const pid of marked(target)) kill(pid, signal);
}

/** Pids in the cgroup (empty when it is gone). */
export function cgroupMembers(dir: string): number[] {
  try {
    return readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Whether the cgroup still holds a process (false when it is gone). */
export function cgroupPopulated(dir: string): boolean {
  try {
    return /^populated 1$/m.test(readFileSync(join(dir, 'cgroup.events'), 'utf8'));
  } catch {
    return false;
  }
}

/** Removes an emptied cgroup; false while it still has members (they are still dying). */
export function removeCgroup(dir: string): boolean {
  try {
    rmdirSync(dir);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

/** Pids whose environment says they belong to this execution of this node (Linux /proc). */
export function marked(target: TaskTarget): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const node = `DROVER_NODE_NAME=${target.nodeName}`;
  const execution = `DROVER_EXECUTION_ID=${target.executionId}`;
  const found: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    let environ: string;
    try {
      environ = readFileSync(`/proc/${entry}/environ`, 'latin1');
    } catch {
      continue; // gone, or not ours to read
    }
    const vars = environ.split('\0');
    if (vars.includes(execution) && vars.includes(node)) found.push(pid);
  }
  return found;
}

function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // gone already
  }
}
