/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  rmdirSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestServer } from '../helpers/http.js';

/*
 * The command-line suites run the real `drover` (bin/drover.js over dist/) as a child
 * process against a real server. Helpers shared by them; not a test file itself.
 */

export const ROOT = join(import.meta.dirname, '..', '..');
const STAMP = join(ROOT, 'dist', '.cli-test-build');
const LOCK = join(ROOT, 'dist', '.cli-test-build.lock');

function newestSource(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = statSync(path);
    newest = Math.max(newest, stat.isDirectory() ? newestSource(path) : stat.mtimeMs);
  }
  return newest;
}

/**
 * Compiles src/ into dist/ once, however many CLI suites start at the same time: a lock
 * directory keeps a second build from rewriting files a first suite is running, and a
 * stamp newer than every source file says the build is fresh. tsc still writes output when
 * files elsewhere in the tree (being edited by others) have type errors, so its exit
 * status is not asserted; the compiled client must be there.
 */
export async function buildOnce(): Promise<void> {
  mkdirSync(join(ROOT, 'dist'), { recursive: true });
  for (let tries = 0; ; tries++) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      // A lock older than two minutes was left by a killed run.
      if (existsSync(LOCK) && Date.now() - statSync(LOCK).mtimeMs > 120_000) rmdirSync(LOCK);
      if (tries > 1200) throw new Error(`the build lock ${LOCK} is held`);
      await sleep(100);
    }
  }
  try {
    // `npm run build` (as CI runs it) rewrites dist/cli/main.js, so a build newer than
    // every source needs no second compile: that compile cost CI ~25 s with every CLI
    // suite waiting on the lock.
    const built = [STAMP, join(ROOT, 'dist', 'cli', 'main.js')]
      .filter((path) => existsSync(path))
      .map((path) => statSync(path).mtimeMs);
    const fresh = built.length > 0 && Math.max(...built) >= newestSource(join(ROOT, 'src'));
    if (!fresh) {
      const result = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], {
        cwd: ROOT,
        encoding: 'utf8',
      });
      assert.ok(
        existsSync(join(ROOT, 'dist', 'cli', 'client', 'index.js')),
        `the build wrote no dist/cli: ${result.stdout}${result.stderr}`,
      );
      writeFileSync(STAMP, '');
      const now = new Date();
      utimesSync(STAMP, now, now);
    }
  } finally {
    rmdirSync(LOCK);
  }
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `drover ...args` against the server. Asynchronous on purpose: the server lives in
 * this process, so a synchronous spawn would block it and the child would never get an answer.
 */
export function drover(
  server: string | TestServer,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<Run> {
  const url = typeof server === 'string' ? server : server.url;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(ROOT, 'bin', 'drover.js'), ...args],
      {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '',
          TZ: 'UTC',
          DROVER_SERVER: url,
          ...env,
        },
        timeout: 60_000,
      },
      (error, stdout, stderr) => {
        const code =
          error && typeof (error as any).code === 'number' ? (error as any).code : error ? null : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

export interface Running {
  /** Resolves when the output so far matches. */
  output(pattern: RegExp, timeoutMs?: number): Promise<void>;
  done: Promise<Run>;
}

/** Starts `drover ...args` and lets the test watch its output while it runs. */
export function startDrover(server: TestServer, args: readonly string[]): Running {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'drover.js'), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', TZ: 'UTC', DROVER_SERVER: server.url },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<Run>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  void done.then(() => clearTimeout(killer));
  return {
    done,
    async output(pattern, timeoutMs = 20_000) {
      const until = Date.now() + timeoutMs;
      while (!pattern.test(stdout)) {
        if (Date.now() > until || child.exitCode !== null) {
          throw new Error(`no ${pattern} in output:\n${stdout}\n--- stderr\n${stderr}`);
        }
        await sleep(25);
      }
    },
  };
}

/** Asserts exit status, stdout and stderr together, so a failure shows all three. */
export function expectRun(
  run: Run,
  code: number,
  stdout?: string | RegExp,
  stderr: string | RegExp = '',
): void {
  const shown = `exit ${run.code}\n--- stdout\n${run.stdout}--- stderr\n${run.stderr}`;
  assert.equal(run.code, code, shown);
  if (typeof stdout === 'string') assert.equal(run.stdout, stdout, shown);
  else if (stdout) assert.match(run.stdout, stdout, shown);
  if (typeof stderr === 'string') assert.equal(run.stderr, stderr, shown);
  else assert.match(run.stderr, stderr, shown);
}

export async function api(
  t: TestServer,
  method: string,
  path: string,
  body?: unknown,
): Promise<any> {
  const res = await t.request(method, `/api/v1${path}`, body);
  assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export async function submitJob(t: TestServer, body: Record<string, unknown> = {}): Promise<any> {
  return api(t, 'POST', '/jobs', {
    type: 'command-line',
    parameters: { executable: 'echo' },
    ...body,
  });
}

/** A node that takes one task through the node protocol: acquire then start. */
export async function startTask(t: TestServer, nodeId: number): Promise<any> {
  const res = await t.request('POST', `/api/v1/nodes/${nodeId}/acquire?wait=0`);
  assert.equal(res.status, 200, `acquire: ${res.status} ${JSON.stringify(res.body)}`);
  await api(t, 'POST', `/executions/${res.body.execution.id}/start`, { nodeId });
  return res.body;
}

export async function finishTask(
  t: TestServer,
  nodeId: number,
  executionId: number,
  exitCode = 0,
): Promise<void> {
  await api(t, 'POST', `/executions/${executionId}/finish`, {
    nodeId,
    success: exitCode === 0,
    exitCode,
  });
}

/** Cancels every live job, so each test starts with an empty queue. */
export async function drain(t: TestServer): Promise<void> {
  const live = await api(t, 'GET', '/jobs?state=PENDING,QUEUED,RUNNING,SUSPENDED&limit=1000');
  for (const j of live.items) await api(t, 'POST', `/jobs/${j.id}/cancel`);
}
