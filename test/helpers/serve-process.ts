import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

/* A real `drover serve` child process over SQLite or its own PostgreSQL database. */

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const START_TIMEOUT_MS = 30_000;

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

export interface Child {
  process: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<void>;
}

/** Starts `drover serve` (with `extra` options) and waits until it says it is listening. */
export async function startServe(
  dataDir: string,
  port: number,
  db?: string,
  extra: readonly string[] = [],
): Promise<Child> {
  // --deadline-port 0: the Deadline listener's default port may be taken by anything else.
  const args = [
    'bin/drover.js',
    'serve',
    '--data-dir',
    dataDir,
    '--port',
    String(port),
    '--deadline-port',
    '0',
  ];
  if (db) args.push('--db', db);
  args.push('--log-level', 'warn', ...extra);
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_ENV: 'test' },
  });
  let output = '';
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const url = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => {
      fail(new Error(`drover serve did not start in ${START_TIMEOUT_MS} ms:\n${output}`));
    }, START_TIMEOUT_MS);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const m = /listening on (http:\/\/\S+)/.exec(output);
      if (m?.[1]) {
        clearTimeout(timer);
        ok(m[1]);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      fail(new Error(`drover serve exited (${code ?? signal}) before listening:\n${output}`));
    });
  });
  return { process: child, url, output: () => output, exited };
}

export async function kill9(child: Child | undefined): Promise<void> {
  if (!child || child.process.exitCode !== null || child.process.signalCode !== null) return;
  child.process.kill('SIGKILL');
  await child.exited;
}

export async function getJson<T>(url: string): Promise<{ status: number; body: T }> {
  const res = await fetch(url);
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

export interface Target {
  name: string;
  setUp(): Promise<{ db?: string; cleanup(): Promise<void> }>;
}

export const targets: Target[] = [
  { name: 'sqlite', setUp: async () => ({ cleanup: async () => {} }) },
];

const pgUrl = process.env.DROVER_TEST_PG;
if (pgUrl) {
  // The server works in schema public, so each run gets a database of its own.
  targets.push({
    name: 'postgres',
    async setUp() {
      const name = `drover_dur_${randomBytes(6).toString('hex')}`;
      const admin = new pg.Client({ connectionString: pgUrl });
      await admin.connect();
      try {
        await admin.query(`create database ${name}`);
      } finally {
        await admin.end();
      }
      const url = new URL(pgUrl);
      url.pathname = `/${name}`;
      return {
        db: url.toString(),
        async cleanup() {
          const c = new pg.Client({ connectionString: pgUrl });
          await c.connect();
          try {
            await c.query(`drop database if exists ${name} with (force)`);
          } finally {
            await c.end();
          }
        },
      };
    },
  });
}

/** The e2e tests run the built CLI; build it once if a test run starts without it. */
export function buildOnce(): void {
  if (!existsSync(join(ROOT, 'dist/cli/main.js'))) {
    const built = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], {
      cwd: ROOT,
      stdio: 'inherit',
    });
    assert.equal(built.status, 0, 'building dist/ failed');
  }
}
