import { readFileSync } from 'node:fs';
import pg from 'pg';
import { processCpuSeconds } from './server-process.js';

/*
 * The CPU that PostgreSQL's backends spend for one database: for a peer comparison, the
 * server's own CPU is half the story when the work is in the database. Backends are found
 * by their database in pg_stat_activity at the start and at the end; one that came and went
 * in between is missed, which the pools of both sides make rare.
 */
export interface DatabaseCpu {
  /** CPU seconds the database's backends spent since the start. */
  stop(): Promise<number>;
}

async function backendPids(url: string): Promise<number[]> {
  const name = new URL(url).pathname.slice(1);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>(
      'select pid from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
      [name],
    );
    return rows.map((r) => r.pid);
  } finally {
    await client.end();
  }
}

function cpuOf(pid: number): number | undefined {
  try {
    readFileSync(`/proc/${pid}/stat`);
    return processCpuSeconds(pid);
  } catch {
    return undefined;
  }
}

/** Starts counting; a SQLite url counts nothing (its work is in the server's process). */
export async function databaseCpu(url: string): Promise<DatabaseCpu> {
  if (!url.startsWith('postgres')) return { stop: async () => 0 };
  const before = new Map<number, number>();
  for (const pid of await backendPids(url)) {
    const cpu = cpuOf(pid);
    if (cpu !== undefined) before.set(pid, cpu);
  }
  return {
    stop: async () => {
      let total = 0;
      for (const pid of new Set([...before.keys(), ...(await backendPids(url))])) {
        const now = cpuOf(pid);
        if (now !== undefined) total += now - (before.get(pid) ?? 0);
      }
      return total;
    },
  };
}
