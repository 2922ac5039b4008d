import { readFileSync } from 'node:fs';
import type { Database } from '../fresh-database.js';
import { onCleanup } from './run-bounds.js';
import { forkTypeScript, nextMessage, stopChild } from './ts-child.js';

/** A Drover server running in a child process (serve-child.ts). */
export interface ServerProcess {
  /** http://127.0.0.1:port of the native API. */
  url: string;
  /** The /api/v1 prefix of url. */
  api: string;
  pid: number;
  /** CPU seconds (user + system) the server process has used so far. */
  cpuSeconds(): number;
  /** Starts or stops a CPU profile of the server (a no-op without DROVER_BENCH_PROFILE_DIR). */
  profile(step: 'start' | 'stop'): Promise<void>;
  close(): Promise<void>;
}

/** Linux clock ticks per second (USER_HZ); 100 on every architecture Node runs on. */
const CLOCK_TICKS = 100;

/** Reads utime + stime of a process from /proc/<pid>/stat (Linux only). */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces; the fields after its closing ')' do not.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the name.
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

export async function startServerProcess(database: Database): Promise<ServerProcess> {
  // DROVER_BENCH_SERVER_NODE_OPTIONS='--cpu-prof --cpu-prof-dir=/tmp/prof' profiles the server.
  const nodeOptions = (process.env.DROVER_BENCH_SERVER_NODE_OPTIONS ?? '')
    .split(' ')
    .filter(Boolean);
  const child = forkTypeScript(
    new URL('./serve-child.ts', import.meta.url),
    [database.url, database.dataDir],
    nodeOptions,
  );
  const close = () => stopChild(child, 'close');
  onCleanup(close);
  const { url } = await nextMessage<{ url: string }>(child, () => true);
  return {
    url,
    api: `${url}/api/v1`,
    pid: child.pid!,
    cpuSeconds: () => processCpuSeconds(child.pid!),
    profile: async (step) => {
      const counting = process.env.DROVER_COUNT_STATEMENTS === '1';
      if (!process.env.DROVER_BENCH_PROFILE_DIR && !counting) return;
      const answered = nextMessage<{ profiled?: string }>(
        child,
        (m) => m.profiled === `profile-${step}`,
      );
      child.send(`profile-${step}`);
      await answered;
    },
    close,
  };
}
