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
 * Sends a signal to every process of the task that can be found, once each. The /proc scan
 * reads every process's environment (measured: 10 ms per 100 processes), so by default it
 * runs only where no cgroup says who is a member.
 *
 * Once each, because a shell counts the signals it receives and runs its trap for each: a
 * command found both in the group and in the cgroup ran its TERM trap twice (seen in CI, an
 * OpenJD action canceled with NOTIFY_THEN_TERMINATE). So the group is signalled first, and
 * a member found another way only when it has left the group.
 */
export function signalTask(
  target: TaskTarget,
  signal: NodeJS.Signals,
  scan = target.cgroup === undefined,
): void {
  if (target.cgroup && signal === 'SIGKILL') {
    try {
      writeFileSync(join(target.cgroup, 'cgroup.kill'), '1');
    } catch {
      // the cgroup is gone, or this kernel has no cgroup.kill: the means below remain
    }
  }
  if (target.pid !== undefined) kill(-target.pid, signal);
  const found = new Set([
    ...(target.cgroup ? cgroupMembers(target.cgroup) : []),
    ...(scan ? marked(target) : []),
  ]);
  for (const pid of found) {
    if (target.pid === undefined || processGroup(pid) !== target.pid) kill(pid, signal);
  }
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

/** The process group of `pid` (Linux /proc), or undefined when it cannot be read. */
function processGroup(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid pgrp …", and comm may itself hold parentheses.
    const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
    return Number.isInteger(pgrp) ? pgrp : undefined;
  } catch {
    return undefined;
  }
}

function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // gone already
  }
}
