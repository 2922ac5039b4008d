import graphile from 'graphile-worker';
import pg from 'pg';
import { freshDatabase } from '../fresh-database.js';
import type { ProtocolMode } from './cli.js';
import { databaseCpu } from './database-cpu.js';
import { onCleanup } from './run-bounds.js';

/*
 * Graphile Worker draining `jobs` no-op jobs, the peer Drover's dispatch is compared with.
 * It runs in the benchmark's own process (its work is in PostgreSQL and in this process,
 * as it would be in production), against a fresh database of its own.
 */

/** The worker options compared: its defaults, and the batching its docs recommend. */
export const GRAPHILE_PROFILES = {
  defaults: { concurrency: 10, preset: {} },
  tuned: {
    concurrency: 10,
    preset: { worker: { localQueue: { size: 100 }, completeJobBatchDelay: 0 } },
  },
} as const;
export type GraphileProfile = keyof typeof GRAPHILE_PROFILES;

/** The profile of Graphile Worker each of Drover's node protocols is compared with. */
export const PEER_PROFILE: Record<ProtocolMode, GraphileProfile> = {
  single: 'defaults',
  batched: 'tuned',
};

export function describeProfile(profile: GraphileProfile): string {
  const { concurrency, preset } = GRAPHILE_PROFILES[profile];
  return `run({ concurrency: ${concurrency}, preset: ${JSON.stringify(preset)} })`;
}

const quiet = new graphile.Logger(() => (level, message) => {
  if (level === 'error') process.stderr.write(`graphile-worker: ${message}\n`);
});

export interface GraphileResult {
  /** From the first job's start to the last completion committed. */
  elapsedMs: number;
  addMs: number;
  /** CPU seconds of the database's backends over the drain (and the runner's start). */
  dbCpuS: number;
}

export async function runGraphile(
  connectionString: string,
  jobs: number,
  profile: GraphileProfile,
  deadline: number,
): Promise<GraphileResult> {
  // Graphile Worker gets a pool we own and end ourselves: the pool it makes on its own outlived
  // runner.stop(), and the forced drop of its database after a round then killed those
  // connections with an unhandled 'error' event that took the whole benchmark down.
  const pgPool = new pg.Pool({ connectionString, max: 20 });
  pgPool.on('error', () => {});
  pgPool.on('connect', (client) => client.on('error', () => {}));
  const utils = await graphile.makeWorkerUtils({ pgPool, logger: quiet });
  const addStart = performance.now();
  try {
    await utils.migrate();
    for (let added = 0; added < jobs; added += 1000) {
      const count = Math.min(1000, jobs - added);
      await utils.addJobs(
        Array.from({ length: count }, () => ({ identifier: 'noop', payload: {} })),
      );
    }
  } finally {
    await utils.release();
  }
  const addMs = performance.now() - addStart;

  let handled = 0;
  let first = 0;
  let allHandled!: () => void;
  const handledAll = new Promise<void>((resolve) => (allHandled = resolve));
  const { concurrency, preset } = GRAPHILE_PROFILES[profile];
  const dbCpu = await databaseCpu(connectionString);
  const runner = await graphile.run({
    pgPool,
    concurrency,
    noHandleSignals: true,
    logger: quiet,
    preset,
    taskList: {
      noop: async () => {
        if (handled++ === 0) first = performance.now();
        if (handled === jobs) allHandled();
      },
    },
  });
  const watcher = new pg.Client({ connectionString });
  await watcher.connect();
  try {
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(
        () => reject(new Error(`graphile-worker: only ${handled} of ${jobs} jobs ran`)),
        Math.max(0, deadline - Date.now()),
      ).unref(),
    );
    await Promise.race([handledAll, timeout]);
    // A batched completion commits after the handler returned: wait for the table to empty.
    for (;;) {
      const { rows } = await watcher.query<{ n: string }>(
        'select count(*) as n from graphile_worker.jobs',
      );
      if (Number(rows[0]!.n) === 0) break;
      if (Date.now() > deadline) throw new Error('graphile-worker: jobs left in the table');
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const elapsedMs = performance.now() - first;
    return { elapsedMs, addMs, dbCpuS: await dbCpu.stop() };
  } finally {
    await watcher.end();
    await runner.stop();
    await pgPool.end();
  }
}

/**
 * Graphile Worker's side of a comparison: `warmup` jobs untimed, as on Drover's side (the
 * first jobs warm the worker up), then `jobs` timed, in a fresh database of their own.
 */
export async function graphileRound(
  profile: GraphileProfile,
  jobs: number,
  warmup: number,
  drainMs: number,
): Promise<{ jobsPerS: number; addS: number; dbCpuMsPerJob: number }> {
  const database = await freshDatabase('postgres');
  onCleanup(database.cleanup);
  try {
    await runGraphile(database.url, warmup, profile, Date.now() + drainMs);
    const result = await runGraphile(database.url, jobs, profile, Date.now() + drainMs);
    return {
      jobsPerS: jobs / (result.elapsedMs / 1000),
      addS: result.addMs / 1000,
      dbCpuMsPerJob: (result.dbCpuS * 1000) / jobs,
    };
  } finally {
    await database.cleanup();
  }
}

/** PostgreSQL's durability settings, printed beside Graphile Worker's figures. */
export async function postgresDurability(connectionString: string): Promise<string> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    const settings = [];
    for (const name of ['fsync', 'synchronous_commit']) {
      const { rows } = await client.query<Record<string, string>>(`show ${name}`);
      settings.push(`${name}=${Object.values(rows[0]!)[0]}`);
    }
    return settings.join(' ');
  } finally {
    await client.end();
  }
}
