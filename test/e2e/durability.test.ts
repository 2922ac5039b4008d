import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { chunkFrames, parseFrameList } from '../../src/domain/frame-list.js';

/*
 * Every 2xx survives a crash: jobs are submitted by several concurrent clients over HTTP,
 * the server process is killed with SIGKILL mid-stream and restarted on the same data,
 * and every job it answered 201 for must be there with all of its tasks — and no job may
 * exist with only some of its tasks.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLIENTS = 6;
const FRAMES = '1-50';
const CHUNK_SIZES = [1, 2, 3, 7, 50];
/** How long the clients stream before the kill. */
const KILL_AFTER_MS = 1500;
/** Bounds on every loop, so a broken server fails the test instead of hanging it. */
const MAX_SUBMISSIONS_PER_CLIENT = 5000;
const START_TIMEOUT_MS = 30_000;

function expectedTasks(frames: string, chunkSize: number): number {
  return frames.trim() === '' ? 1 : chunkFrames(parseFrameList(frames), chunkSize).length;
}

async function freePort(): Promise<number> {
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

interface Child {
  process: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<void>;
}

/** Starts `drover serve` and waits until it says it is listening. */
async function startServe(dataDir: string, port: number, db?: string): Promise<Child> {
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
  args.push('--log-level', 'warn');
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

async function kill9(child: Child | undefined): Promise<void> {
  if (!child || child.process.exitCode !== null || child.process.signalCode !== null) return;
  child.process.kill('SIGKILL');
  await child.exited;
}

interface JobSummary {
  id: number;
  frames: string;
  chunkSize: number;
  tasks: { total: number };
}

interface PageOf<T> {
  items: T[];
  total: number;
}

async function getJson<T>(url: string): Promise<{ status: number; body: T }> {
  const res = await fetch(url);
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

interface Accepted {
  id: number;
  chunkSize: number;
}

/** One client: submits jobs back to back until the server goes away or `stop` is set. */
async function client(url: string, n: number, accepted: Accepted[], stop: { now: boolean }) {
  let refused = 0;
  for (let i = 0; i < MAX_SUBMISSIONS_PER_CLIENT && !stop.now; i++) {
    const chunkSize = CHUNK_SIZES[(n + i) % CHUNK_SIZES.length]!;
    let res: Response;
    try {
      res = await fetch(`${url}/api/v1/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          type: 'command-line',
          name: `durability ${n}-${i}`,
          frames: FRAMES,
          chunkSize,
          parameters: { executable: 'true', arguments: [] },
        }),
      });
    } catch {
      return refused; // the server is gone
    }
    let body: { id: number };
    try {
      body = (await res.json()) as { id: number };
    } catch {
      return refused; // killed while answering: the answer never arrived
    }
    if (res.status === 201) accepted.push({ id: body.id, chunkSize });
    else refused++;
  }
  return refused;
}

/** Every job (deleted included), page by page. */
async function allJobs(url: string): Promise<JobSummary[]> {
  const jobs: JobSummary[] = [];
  for (let offset = 0, page = 0; page < 1000; page++) {
    const { status, body } = await getJson<PageOf<JobSummary>>(
      `${url}/api/v1/jobs?limit=1000&deleted=include&sort=id&offset=${offset}`,
    );
    assert.equal(status, 200);
    jobs.push(...body.items);
    offset += body.items.length;
    if (body.items.length === 0 || offset >= body.total) break;
  }
  return jobs;
}

/** Runs `work` over `items` with a few requests in flight. */
async function eachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

interface Target {
  name: string;
  setUp(): Promise<{ db?: string; cleanup(): Promise<void> }>;
}

const targets: Target[] = [{ name: 'sqlite', setUp: async () => ({ cleanup: async () => {} }) }];

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

before(() => {
  if (!existsSync(join(ROOT, 'dist/cli/main.js'))) {
    const built = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], {
      cwd: ROOT,
      stdio: 'inherit',
    });
    assert.equal(built.status, 0, 'building dist/ failed');
  }
});

for (const target of targets) {
  describe(`durability across kill -9 (${target.name})`, () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'drover-durability-'));
    after(() => rmSync(dataDir, { recursive: true, force: true }));

    it(
      'keeps every job answered 201, each with all its tasks, and no half-made job',
      { timeout: 180_000 },
      async () => {
        const { db, cleanup } = await target.setUp();
        let server: Child | undefined;
        try {
          const port = await freePort();
          server = await startServe(dataDir, port, db);

          const accepted: Accepted[] = [];
          const stop = { now: false };
          const clients = Array.from({ length: CLIENTS }, (_, n) =>
            client(server!.url, n, accepted, stop),
          );
          await new Promise((r) => setTimeout(r, KILL_AFTER_MS));
          await kill9(server);
          stop.now = true;
          const refused = (await Promise.all(clients)).reduce((a, b) => a + b, 0);
          assert.equal(refused, 0, 'no submission was refused before the kill');
          assert.ok(accepted.length > 0, 'some jobs were accepted before the kill');

          server = await startServe(dataDir, port, db);
          const url = server.url;

          // Every job answered 201 is there, with every one of its tasks.
          await eachLimited(accepted, 8, async ({ id, chunkSize }) => {
            const expected = expectedTasks(FRAMES, chunkSize);
            const job = await getJson<JobSummary>(`${url}/api/v1/jobs/${id}`);
            assert.equal(job.status, 200, `job ${id} was answered 201 but is gone`);
            assert.equal(job.body.tasks.total, expected, `job ${id} task count`);
            const tasks = await getJson<PageOf<unknown>>(`${url}/api/v1/jobs/${id}/tasks?limit=1`);
            assert.equal(tasks.status, 200);
            assert.equal(tasks.body.total, expected, `job ${id} has ${tasks.body.total} task rows`);
          });

          // Nothing half-made: every job that exists has the tasks its frames imply.
          const jobs = await allJobs(url);
          assert.ok(jobs.length >= accepted.length, 'at least the accepted jobs exist');
          const ids = new Set(jobs.map((j) => j.id as number));
          for (const { id } of accepted) assert.ok(ids.has(id), `job ${id} is listed`);
          await eachLimited(jobs, 8, async (job) => {
            const expected = expectedTasks(job.frames as string, job.chunkSize as number);
            assert.equal(job.tasks.total, expected, `job ${job.id} task count`);
            const tasks = await getJson<PageOf<unknown>>(
              `${url}/api/v1/jobs/${job.id}/tasks?limit=1`,
            );
            assert.equal(
              tasks.body.total,
              expected,
              `job ${job.id} has ${tasks.body.total} task rows`,
            );
          });
          process.stdout.write(
            `# ${target.name}: ${accepted.length} jobs answered 201 before kill -9, ${jobs.length} present after restart\n`,
          );
        } finally {
          await kill9(server);
          await cleanup();
        }
      },
    );
  });
}
