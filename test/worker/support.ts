/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server.js';
import type { TestDatabase } from '../helpers/databases.js';

/* End-to-end support: a real server in this process, real `drover worker` processes. */

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = statSync(path);
    newest = Math.max(newest, stat.isDirectory() ? newestMtime(path) : stat.mtimeMs);
  }
  return newest;
}

/**
 * Workers run from dist/, so it must hold the current sources. Builds when it is older;
 * a lock directory keeps two test files from building at the same time.
 */
export function ensureBuilt(): void {
  const lock = join(tmpdir(), 'drover-build.lock');
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`could not take ${lock}`);
      // A lock older than two minutes belongs to a build that died.
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 120_000) {
        rmSync(lock, { recursive: true, force: true });
      }
      execFileSync('sleep', ['0.2']);
    }
  }
  try {
    const main = join(ROOT, 'dist/cli/main.js');
    const worker = join(ROOT, 'dist/worker/worker.js');
    const built = existsSync(main) && existsSync(worker) ? statSync(worker).mtimeMs : 0;
    if (built < newestMtime(join(ROOT, 'src'))) {
      try {
        execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'pipe' });
      } catch {
        // Type errors elsewhere in the tree still emit JavaScript; the tests will tell.
      }
    }
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export interface E2eServer {
  server: RunningServer;
  url: string;
  dataDir: string;
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

/** A real server over a fresh database: SQLite in its data directory, or `database`'s. */
export async function startE2eServer(
  overrides: Partial<Config> = {},
  database?: TestDatabase,
): Promise<E2eServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'drover-worker-e2e-'));
  const fresh = database?.name === 'postgres' ? await database.fresh() : undefined;
  const config: Config = {
    host: '127.0.0.1',
    port: 0,
    dataDir,
    db: join(dataDir, 'drover.sqlite'),
    auth: false,
    sqliteSync: 'NORMAL',
    leaseSeconds: 60,
    reaperSeconds: 1,
    logLevel: 'error',
    localWorkers: 0,
    ...(fresh ? { db: fresh.options.url } : {}),
    ...overrides,
  };
  const server = await startServer(config, fresh?.options.schema);
  const url = server.url;
  return {
    server,
    url,
    dataDir,
    async api(method, path, body) {
      const res = await fetch(url + path, {
        method,
        ...(body !== undefined
          ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }
          : {}),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        // keep the text
      }
      return { status: res.status, body: parsed };
    },
    async close() {
      await server.close();
      await fresh?.cleanup();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface WorkerProcess {
  name: string;
  child: ChildProcess;
  output(): string;
  exited: Promise<void>;
  /** SIGTERM and wait (SIGKILL after 10 s). */
  stop(): Promise<void>;
}

export function startWorker(
  url: string,
  name: string,
  workDir: string,
  extra: string[] = [],
  /** Flags of node itself (`--import` a test's preload), before the script. */
  nodeArgs: string[] = [],
): WorkerProcess {
  const child = spawn(
    process.execPath,
    [
      ...nodeArgs,
      'bin/drover.js',
      'worker',
      '--server',
      url,
      '--name',
      name,
      '--work-dir',
      workDir,
      '--poll-seconds',
      '5',
      '--heartbeat-seconds',
      '1',
      '--kill-grace',
      '1',
      ...extra,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_ENV: 'test' } },
  );
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  return {
    name,
    child,
    output: () => output,
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `ms`. */
export async function waitFor<T>(
  what: string,
  ms: number,
  check: () => Promise<T | undefined | false>,
  explain: () => string = () => '',
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${ms} ms waiting for ${what}\n${explain()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Submits a shell-script job and returns its id. */
export async function submitScript(
  e2e: E2eServer,
  script: string,
  extra: Record<string, unknown> = {},
): Promise<number> {
  const res = await e2e.api('POST', '/api/v1/jobs', {
    type: 'shell-script',
    parameters: { script },
    ...extra,
  });
  if (res.status !== 201)
    throw new Error(`submit failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id as number;
}

export async function jobState(e2e: E2eServer, id: number): Promise<any> {
  return (await e2e.api('GET', `/api/v1/jobs/${id}`)).body;
}

/** Waits for the job to reach COMPLETED, FAILED or CANCELED and returns it. */
export async function jobEnded(e2e: E2eServer, id: number, worker: WorkerProcess): Promise<any> {
  return waitFor(
    `job ${id} to end`,
    30_000,
    async () => {
      const j = await jobState(e2e, id);
      return ['COMPLETED', 'FAILED', 'CANCELED'].includes(j.state) ? j : undefined;
    },
    () => worker.output(),
  );
}

export async function executionsOf(e2e: E2eServer, jobId: number): Promise<any[]> {
  const res = await e2e.api('GET', `/api/v1/executions?job=${jobId}&limit=1000`);
  return (res.body.items as any[]).sort((a, b) => a.id - b.id);
}
