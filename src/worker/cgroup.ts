import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeCgroup } from './task-kill.js';

/*
 * A cgroup (v2) per task, where the worker may make one: the worker's own cgroup (or the
 * directory given with --cgroup) must be on a cgroup2 mount, writable, and the kernel must
 * have cgroup.kill (5.14+). Then the worker makes `drover-worker-<pid>/` there and one
 * `task-<execution>/` inside per task; the command moves itself in before it execs (see
 * process-tree.ts), so everything it ever starts is a member, whatever session it makes.
 */

/** `auto` finds the worker's own cgroup; `off` never uses one; else a delegated directory. */
export type CgroupSetting = 'auto' | 'off' | (string & {});

export interface CgroupUsage {
  cpuSeconds: number;
  userSeconds: number;
  systemSeconds: number;
  /** Bytes; only where the memory controller is enabled for the task's cgroup. */
  peakMemory?: number;
}

/** The worker's cgroup directory for its tasks, or why there is none. */
export function openWorkerCgroup(
  setting: CgroupSetting,
): { dir: string; reason?: undefined } | { dir?: undefined; reason: string } {
  if (setting === 'off') return { reason: 'turned off (--cgroup off)' };
  if (process.platform !== 'linux') return { reason: `not Linux (${process.platform})` };
  const base = setting === 'auto' ? ownCgroup() : setting;
  if (!base) return { reason: 'no cgroup v2 hierarchy is mounted' };
  const dir = join(base, `drover-worker-${process.pid}`);
  try {
    mkdirSync(dir);
  } catch (error) {
    return { reason: `cannot create ${dir}: ${(error as NodeJS.ErrnoException).code}` };
  }
  const failed = probe(dir);
  if (failed) {
    removeCgroup(dir);
    return { reason: failed };
  }
  // Best effort: with the memory controller on, a task's peak memory can be read. It fails
  // where the parent does not delegate it, and the cgroup still contains and kills.
  for (const controller of ['cpu', 'memory', 'pids']) {
    try {
      writeFileSync(join(dir, 'cgroup.subtree_control'), `+${controller}`);
    } catch {
      // not delegated here
    }
  }
  return { dir };
}

/** Why a process cannot be moved into a child of `dir`, or undefined when it can. */
function probe(dir: string): string | undefined {
  if (!existsSync(join(dir, 'cgroup.kill'))) return 'this kernel has no cgroup.kill (5.14+)';
  const child = join(dir, 'probe');
  try {
    mkdirSync(child);
  } catch (error) {
    return `cannot create a task cgroup: ${(error as NodeJS.ErrnoException).code}`;
  }
  // The same move the task launcher makes, by a real process.
  const moved = spawnSync('/bin/sh', ['-c', 'echo $$ > "$0/cgroup.procs"', child], {
    stdio: 'ignore',
  });
  for (let i = 0; i < 100 && !removeCgroup(child); i++) spawnSync('sleep', ['0.01']);
  return moved.status === 0 ? undefined : 'cannot move a process into a task cgroup';
}

/** The worker's own cgroup v2 directory, from /proc/self/mountinfo and /proc/self/cgroup. */
function ownCgroup(): string | undefined {
  try {
    const mount = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((line) => line.split(' '))
      .find((fields) => fields[fields.indexOf('-') + 1] === 'cgroup2');
    const own = /^0::(.*)$/m.exec(readFileSync('/proc/self/cgroup', 'utf8'))?.[1];
    if (!mount || own === undefined) return undefined;
    // fields[3] is the mount's root within the hierarchy; own is relative to the same root
    // in the worker's cgroup namespace, which is what is mounted when the two differ.
    const root = mount[3] ?? '/';
    const inside = own.startsWith(root) ? own.slice(root.length) : own;
    return join(mount[4]!, inside);
  } catch {
    return undefined;
  }
}

/** Makes the task's cgroup; undefined when it cannot (the task then runs without one). */
export function createTaskCgroup(workerDir: string, executionId: number): string | undefined {
  const dir = join(workerDir, `task-${executionId}`);
  try {
    mkdirSync(dir);
    return dir;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return dir;
    return undefined;
  }
}

/** CPU time of every process the task ever ran, and its peak memory where it is kept. */
export function readUsage(dir: string): CgroupUsage | undefined {
  try {
    const stat = readFileSync(join(dir, 'cpu.stat'), 'utf8');
    const usec = (name: string): number =>
      Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(stat)?.[1] ?? 0) / 1e6;
    const usage: CgroupUsage = {
      cpuSeconds: usec('usage_usec'),
      userSeconds: usec('user_usec'),
      systemSeconds: usec('system_usec'),
    };
    try {
      usage.peakMemory = Number(readFileSync(join(dir, 'memory.peak'), 'utf8'));
    } catch {
      // no memory controller here
    }
    return usage;
  } catch {
    return undefined;
  }
}

/** "CPU 1.25 s (user 1.00 s, system 0.25 s), peak memory 34.5 MiB" */
export function describeUsage(usage: CgroupUsage): string {
  const s = (seconds: number): string => `${seconds.toFixed(2)} s`;
  const cpu = `CPU ${s(usage.cpuSeconds)} (user ${s(usage.userSeconds)}, system ${s(usage.systemSeconds)})`;
  return usage.peakMemory === undefined
    ? cpu
    : `${cpu}, peak memory ${(usage.peakMemory / 1048576).toFixed(1)} MiB`;
}
