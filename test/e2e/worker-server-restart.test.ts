/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../helpers/serve-process.js';
import { ensureBuilt, ROOT, startWorker, waitFor, type WorkerProcess } from '../worker/support.js';

/*
 * Issue 3: the worker "survives the server going away (retries with backoff, keeps its
 * running task, reports when the server is back)". The server runs as a real child process
 * on SQLite; it is killed with SIGKILL while a task streams numbered lines, and started
 * again on the same data directory and port after a gap. The lease (30 s) outlives the gap,
 * so the execution the worker kept is still its own: the job completes with that one
 * execution, and its log holds every line exactly once, in order.
 */

const LINES = 20;
const START_TIMEOUT_MS = 30_000;

interface ServeChild {
  process: ChildProcess;
  output: () => string;
  exited: Promise<void>;
}

/** Starts `drover serve` and waits until it says it is listening. */
async function startServe(dataDir: string, port: number): Promise<ServeChild> {
  const args = [
    'bin/drover.js',
    'serve',
    '--data-dir',
    dataDir,
    '--port',
    String(port),
    '--host',
    '127.0.0.1',
    '--local-workers',
    '0',
    '--lease-seconds',
    '30',
    '--reaper-seconds',
    '1',
    // The Deadline dialect's fixed default port would clash with other servers.
    '--deadline-port',
    '0',
    '--log-level',
    'warn',
  ];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_ENV: 'test' },
  });
  let output = '';
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise<void>((ok, fail) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      fail(new Error(`drover serve did not start in ${START_TIMEOUT_MS} ms:\n${output}`));
    }, START_TIMEOUT_MS);
    const onExit = (code: number | null, signal: string | null): void => {
      clearTimeout(timer);
      fail(new Error(`drover serve exited (${code ?? signal}) before listening:\n${output}`));
    };
    const check = (): void => {
      if (/listening on http:\/\/\S+/.test(output)) {
        clearTimeout(timer);
        child.off('exit', onExit);
        child.stdout!.off('data', check);
        child.stderr!.off('data', check);
        ok();
      }
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    child.once('exit', onExit);
  });
  return { process: child, output: () => output, exited };
}

async function kill9(child: ServeChild | undefined): Promise<void> {
  if (!child || child.process.exitCode !== null || child.process.signalCode !== null) return;
  child.process.kill('SIGKILL');
  await Promise.race([child.exited, new Promise((r) => setTimeout(r, 10_000))]);
}

async function api(url: string, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(url + path, {
    method,
    signal: AbortSignal.timeout(10_000),
    ...(body !== undefined
      ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }
      : {}),
  });
  const text = await res.text();
  if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

async function executionsOf(url: string, jobId: number): Promise<any[]> {
  const page = await api(url, 'GET', `/api/v1/executions?job=${jobId}&limit=1000`);
  return (page.items as any[]).sort((a, b) => a.id - b.id);
}

async function stdoutOf(url: string, executionId: number): Promise<string[]> {
  return (await stdoutLines(url, executionId)).map((l) => l.text);
}

async function stdoutLines(url: string, executionId: number): Promise<any[]> {
  const lines: any[] = [];
  let from = 0;
  for (let page = 0; page < 100; page++) {
    const log = await api(url, 'GET', `/api/v1/executions/${executionId}/logs?from=${from}`);
    for (const l of log.lines as any[]) if (l.stream === 'stdout') lines.push(l);
    if (log.lines.length === 0 || log.next === from) break;
    from = log.next;
  }
  return lines;
}

describe('a worker while its server restarts', { timeout: 120_000 }, () => {
  let dataDir: string;
  let workDir: string;
  let serve: ServeChild | undefined;
  let worker: WorkerProcess | undefined;

  before(() => {
    ensureBuilt();
    dataDir = mkdtempSync(join(tmpdir(), 'drover-server-restart-'));
    workDir = mkdtempSync(join(tmpdir(), 'drover-server-restart-work-'));
  });

  after(async () => {
    await worker?.stop();
    await kill9(serve);
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(workDir, { recursive: true, force: true });
  });

  it('keeps its running task and reports it all once the server is back', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    serve = await startServe(dataDir, port);
    worker = startWorker(url, 'restart-survivor', workDir);
    const explain = (): string =>
      `--- worker ---\n${worker?.output() ?? ''}\n--- server ---\n${serve?.output() ?? ''}`;

    const script = `i=1; while [ $i -le ${LINES} ]; do echo "line $i"; i=$((i+1)); sleep 0.3; done`;
    const job = await api(url, 'POST', '/api/v1/jobs', {
      type: 'shell-script',
      parameters: { script },
    });
    const id = job.id as number;

    const first = await waitFor(
      'the task to run and some lines to arrive',
      30_000,
      async () => {
        const [execution] = await executionsOf(url, id);
        if (execution?.state !== 'RUNNING') return undefined;
        return (await stdoutOf(url, execution.id)).length >= 3 ? execution : undefined;
      },
      explain,
    );

    // The worst case: no goodbye from the server, requests in flight cut off.
    await kill9(serve);
    const killedAt = Date.now();
    await new Promise((r) => setTimeout(r, 2000));
    serve = await startServe(dataDir, port);
    const restartedAt = Date.now();

    const done = await waitFor(
      'the job to complete',
      60_000,
      async () => {
        const j = await api(url, 'GET', `/api/v1/jobs/${id}`);
        if (j.state === 'FAILED' || j.state === 'CANCELED') {
          throw new Error(`job ended ${j.state}: ${JSON.stringify(j.error)}\n${explain()}`);
        }
        return j.state === 'COMPLETED' ? j : undefined;
      },
      explain,
    );
    assert.equal(done.tasks.completed, 1);

    const executions = await executionsOf(url, id);
    assert.equal(executions.length, 1, `one execution, got ${JSON.stringify(executions)}`);
    const [only] = executions as [any];
    assert.equal(only.id, first.id);
    assert.equal(only.nodeId, first.nodeId);
    assert.equal(only.state, 'COMPLETED');
    assert.equal(only.exitCode, 0);
    // The task was still running when the server came back: the worker held it across the gap.
    assert.ok(Date.parse(only.endedAt) > restartedAt, `ended ${only.endedAt}`);

    const lines = await stdoutLines(url, only.id);
    const expected = Array.from({ length: LINES }, (_, i) => `line ${i + 1}`);
    assert.deepEqual(
      lines.map((l) => l.text),
      expected,
      explain(),
    );
    // Lines printed while the server was away waited on the worker and arrived later.
    const duringGap = lines.filter((l) => {
      const t = Date.parse(l.time);
      return t > killedAt && t < restartedAt;
    });
    assert.ok(duringGap.length >= 3, `lines printed during the gap: ${duringGap.length}`);
    // The worker said that it could not reach the server (it retried, it did not give up).
    assert.match(worker.output(), /retrying/);
    assert.match(worker.output(), /the server answers again/);
  });
});
