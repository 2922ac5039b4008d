import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { ExecutionUsage } from '../domain/execution-usage.js';
import type { CgroupUsage } from './cgroup.js';
import { cgroupMembers } from './task-kill.js';

/*
 * Measures what a task uses, for its finish report: CPU time (user + system), peak resident
 * memory and wall time. A task's cgroup counts CPU exactly, every process it ever ran
 * included (cpu.stat), and its peak memory where the memory controller is delegated
 * (memory.peak). Whatever the cgroup does not give is sampled from /proc while the command
 * runs: the processes of the task (the cgroup's members, or else the command's process
 * group and its descendants), the sum of their utime + stime, and the largest sum of their
 * resident sets seen at once. Sampling misses what a process did after its last sample, and
 * a peak shorter than the interval; it never counts a process twice.
 */

/** Often enough to see a peak that lasts a second; a scan of /proc costs ~1 ms per 100 processes. */
const SAMPLE_MS = 250;

interface ProcStat {
  pid: number;
  ppid: number;
  pgrp: number;
  /** utime + stime, in clock ticks. */
  ticks: number;
  /** Resident pages. */
  rss: number;
}

const system = (() => {
  const conf = (name: string, fallback: number): number => {
    if (process.platform !== 'linux') return fallback;
    const out = spawnSync('getconf', [name], { encoding: 'utf8' });
    const value = Number(out.stdout?.trim());
    return out.status === 0 && value > 0 ? value : fallback;
  };
  return { ticksPerSecond: conf('CLK_TCK', 100), pageSize: conf('PAGESIZE', 4096) };
})();

export class UsageMeter {
  private readonly startedAt = performance.now();
  private readonly timer: NodeJS.Timeout | undefined;
  /** The last utime + stime seen of every process of the task. */
  private readonly ticks = new Map<number, number>();
  private peakRss = 0;
  private sampled = false;
  private endedAt: number | undefined;

  /**
   * `pid`: the command, the leader of its own process group. `cgroup`: the task's cgroup
   * directory, when it has one.
   */
  constructor(
    private readonly pid: number,
    private readonly cgroup: string | undefined,
  ) {
    if (process.platform !== 'linux') return;
    this.sample();
    this.timer = setInterval(() => this.sample(), SAMPLE_MS);
    this.timer.unref();
  }

  /** The command has exited: stops sampling and fixes the wall time. */
  stop(): void {
    this.endedAt ??= performance.now();
    clearInterval(this.timer);
  }

  /** The figures, from the cgroup's counters where it has them (read them before it goes). */
  usage(cgroup: CgroupUsage | undefined): ExecutionUsage {
    this.stop();
    const usage: ExecutionUsage = {
      wallSeconds: round((this.endedAt! - this.startedAt) / 1000),
    };
    const cpu = cgroup
      ? cgroup.cpuSeconds
      : this.sampled
        ? [...this.ticks.values()].reduce((a, b) => a + b, 0) / system.ticksPerSecond
        : undefined;
    if (cpu !== undefined) usage.cpuSeconds = round(cpu);
    const peak = cgroup?.peakMemory ?? (this.sampled ? this.peakRss * system.pageSize : undefined);
    if (peak !== undefined) usage.peakMemoryBytes = Math.round(peak);
    return usage;
  }

  private sample(): void {
    const stats = this.cgroup ? this.members(this.cgroup) : this.tree();
    if (!stats) return;
    let rss = 0;
    for (const stat of stats) {
      this.ticks.set(stat.pid, Math.max(stat.ticks, this.ticks.get(stat.pid) ?? 0));
      rss += stat.rss;
    }
    this.peakRss = Math.max(this.peakRss, rss);
    this.sampled = true;
  }

  private members(dir: string): ProcStat[] {
    return cgroupMembers(dir)
      .map(readStat)
      .filter((s) => s !== undefined);
  }

  /** The command's process group and every descendant of the command, from all of /proc. */
  private tree(): ProcStat[] | undefined {
    const all = allProcesses();
    if (!all) return undefined;
    const children = new Map<number, ProcStat[]>();
    for (const stat of all) {
      const list = children.get(stat.ppid) ?? [];
      list.push(stat);
      children.set(stat.ppid, list);
    }
    const found = new Map<number, ProcStat>();
    for (const stat of all) if (stat.pgrp === this.pid) found.set(stat.pid, stat);
    const root = all.find((s) => s.pid === this.pid);
    const stack = root ? [root] : [...found.values()];
    while (stack.length > 0) {
      const stat = stack.pop()!;
      found.set(stat.pid, stat);
      for (const child of children.get(stat.pid) ?? []) {
        if (!found.has(child.pid)) stack.push(child);
      }
    }
    return [...found.values()];
  }
}

/**
 * Every process's stat, read at most once per half a sampling period however many tasks
 * run without a cgroup: each meter would otherwise read all of /proc on its own.
 */
let scanned: { at: number; stats: ProcStat[] } | undefined;

function allProcesses(): ProcStat[] | undefined {
  const now = performance.now();
  if (scanned && now - scanned.at < SAMPLE_MS / 2) return scanned.stats;
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  const stats = entries
    .filter((e) => /^\d+$/.test(e))
    .map((e) => readStat(Number(e)))
    .filter((s) => s !== undefined);
  scanned = { at: now, stats };
  return stats;
}

/** /proc/<pid>/stat, or undefined when the process is gone. */
function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is the state (field 3 of proc(5)); utime is field 14, stime 15, rss 24. A
  // zombie keeps its times until it is reaped, and has no resident set.
  return {
    pid,
    ppid: Number(fields[1]),
    pgrp: Number(fields[2]),
    ticks: Number(fields[11]) + Number(fields[12]),
    rss: Number(fields[21]),
  };
}

function round(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}
