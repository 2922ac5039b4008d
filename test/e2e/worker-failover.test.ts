/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { nginxInstalled, startNginx, type Nginx } from '../helpers/nginx.js';
import { freePort, kill9, startServe, targets, type Child } from '../helpers/serve-process.js';
import { ensureBuilt, ROOT, startWorker, waitFor, type WorkerProcess } from '../worker/support.js';

/*
 * Issue 18: a worker given several replicas keeps its running task when the replica it
 * talks to dies. Two `drover serve` processes share one PostgreSQL database (replicas need
 * it: SQLite serves one process); one real worker is given both. The replica it uses is
 * killed with SIGKILL while a task streams numbered lines; the worker moves to the other,
 * which takes its heartbeats, the rest of its log, its output upload and its finish. The
 * job completes with its one execution, every line stored once, the output intact.
 */

const LINES = 16;
const postgres = targets.find((t) => t.name === 'postgres');

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

async function stdoutOf(url: string, executionId: number): Promise<string[]> {
  const lines: string[] = [];
  let from = 0;
  for (let page = 0; page < 100; page++) {
    const log = await api(url, 'GET', `/api/v1/executions/${executionId}/logs?from=${from}`);
    for (const l of log.lines as any[]) if (l.stream === 'stdout') lines.push(l.text);
    if (log.lines.length === 0 || log.next === from) break;
    from = log.next;
  }
  return lines;
}

describe('drover worker --server', () => {
  before(() => ensureBuilt());

  it('refuses a server that is not an http(s) URL, naming it', () => {
    const run = spawnSync(
      process.execPath,
      ['bin/drover.js', 'worker', '--server', 'http://127.0.0.1:1,ftp://files.example'],
      { cwd: ROOT, encoding: 'utf8', timeout: 30_000 },
    );
    assert.notEqual(run.status, 0);
    assert.match(run.stderr, /"ftp:\/\/files\.example": a server URL is http:\/\/ or https:\/\//);
  });
});

describe(
  'a worker with two replicas, one killed mid-task',
  { skip: postgres ? false : 'DROVER_TEST_PG is not set', timeout: 180_000 },
  () => {
    let database: { db?: string; cleanup(): Promise<void> } | undefined;
    const dirs: string[] = [];
    let a: Child | undefined;
    let b: Child | undefined;
    let worker: WorkerProcess | undefined;

    const dir = (prefix: string): string => {
      const path = mkdtempSync(join(tmpdir(), prefix));
      dirs.push(path);
      return path;
    };

    before(async () => {
      ensureBuilt();
      database = await postgres!.setUp();
    });

    after(async () => {
      await worker?.stop();
      await kill9(a);
      await kill9(b);
      await database?.cleanup();
      for (const path of dirs) rmSync(path, { recursive: true, force: true });
    });

    it('finishes the task through the other replica: one execution, COMPLETED', async () => {
      const replicaFlags = ['--host', '127.0.0.1', '--local-workers', '0'];
      replicaFlags.push('--lease-seconds', '30', '--reaper-seconds', '1');
      // One after the other: the first applies the migrations.
      a = await startServe(dir('drover-failover-a-'), await freePort(), database!.db, replicaFlags);
      b = await startServe(dir('drover-failover-b-'), await freePort(), database!.db, replicaFlags);
      const urlA = a.url.replace(/\/+$/, '');
      const urlB = b.url.replace(/\/+$/, '');
      // Both forms at once, a comma list and --server repeated; the same replica twice is
      // taken once (else the fail-over would land where it failed).
      worker = startWorker(`${urlA},${urlA}/`, 'failover', dir('drover-failover-work-'), [
        '--server',
        urlB,
      ]);
      const explain = (): string =>
        `--- worker ---\n${worker?.output() ?? ''}\n--- A ---\n${a?.output() ?? ''}\n--- B ---\n${b?.output() ?? ''}`;

      const script =
        `i=1; while [ $i -le ${LINES} ]; do echo "line $i"; i=$((i+1)); sleep 0.4; done; ` +
        'printf "frame %s\\n" 1 2 3 > "$DROVER_OUTPUT_DIR/frames.txt"';
      const job = await api(urlB, 'POST', '/api/v1/jobs', {
        type: 'shell-script',
        parameters: { script },
      });
      const id = job.id as number;

      const first = await waitFor(
        'the task to run and some lines to arrive',
        60_000,
        async () => {
          const page = await api(urlB, 'GET', `/api/v1/executions?job=${id}`);
          const [execution] = page.items as any[];
          if (execution?.state !== 'RUNNING') return undefined;
          return (await stdoutOf(urlB, execution.id)).length >= 3 ? execution : undefined;
        },
        explain,
      );
      // The worker starts on the first server given and has had no reason to leave it.
      assert.match(worker.output(), new RegExp(`registered with ${urlA} as node`), explain());
      assert.doesNotMatch(worker.output(), /moving to/, explain());

      await kill9(a);
      const killedAt = Date.now();

      const done = await waitFor(
        'the job to complete through replica B',
        90_000,
        async () => {
          const j = await api(urlB, 'GET', `/api/v1/jobs/${id}`);
          if (j.state === 'FAILED' || j.state === 'CANCELED') {
            throw new Error(`job ended ${j.state}: ${JSON.stringify(j.error)}\n${explain()}`);
          }
          return j.state === 'COMPLETED' ? j : undefined;
        },
        explain,
      );
      assert.equal(done.tasks.completed, 1);

      const executions = (await api(urlB, 'GET', `/api/v1/executions?job=${id}`)).items as any[];
      assert.equal(executions.length, 1, `one execution: ${JSON.stringify(executions)}`);
      const [only] = executions as [any];
      assert.equal(only.id, first.id, 'the execution the worker held before the kill');
      assert.equal(only.state, 'COMPLETED');
      assert.equal(only.exitCode, 0);
      assert.ok(Date.parse(only.endedAt) > killedAt, `ended ${only.endedAt}, before the kill`);

      const expected = Array.from({ length: LINES }, (_, i) => `line ${i + 1}`);
      assert.deepEqual(await stdoutOf(urlB, only.id), expected, explain());
      const outputs = (await api(urlB, 'GET', `/api/v1/jobs/${id}/outputs`)).items as any[];
      assert.deepEqual(
        outputs.map((o) => o.name),
        ['frames.txt'],
      );
      const content = await fetch(`${urlB}/api/v1/outputs/${outputs[0].id}/content`);
      assert.equal(await content.text(), 'frame 1\nframe 2\nframe 3\n');

      // It left A for B, and said so.
      assert.match(
        worker.output(),
        new RegExp(`${urlA} failed \\(.*\\); moving to ${urlB}`),
        explain(),
      );
      assert.match(worker.output(), /execution \d+: completed/, explain());
    });
  },
);

describe(
  'a worker given one name that resolves to two replicas, one killed mid-task',
  { skip: postgres ? false : 'DROVER_TEST_PG is not set', timeout: 180_000 },
  () => {
    let database: { db?: string; cleanup(): Promise<void> } | undefined;
    const dirs: string[] = [];
    let a: Child | undefined;
    let b: Child | undefined;
    let worker: WorkerProcess | undefined;

    const dir = (prefix: string): string => {
      const path = mkdtempSync(join(tmpdir(), prefix));
      dirs.push(path);
      return path;
    };

    before(async () => {
      ensureBuilt();
      database = await postgres!.setUp();
    });

    after(async () => {
      await worker?.stop();
      await kill9(a);
      await kill9(b);
      await database?.cleanup();
      for (const path of dirs) rmSync(path, { recursive: true, force: true });
    });

    it('fails over from the first address to the second and finishes the task', async () => {
      // One port, two loopback addresses (Linux routes all of 127/8 to lo): the replicas
      // stand where a name's two A records would point.
      const port = await freePort();
      const flags = ['--local-workers', '0', '--lease-seconds', '30', '--reaper-seconds', '1'];
      a = await startServe(dir('drover-dns-a-'), port, database!.db, [
        '--host',
        '127.0.0.1',
        ...flags,
      ]);
      b = await startServe(dir('drover-dns-b-'), port, database!.db, [
        '--host',
        '127.0.0.2',
        ...flags,
      ]);
      const name = 'drover-replicas.test';
      const server = `http://${name}:${port}`;
      // The worker resolves the name with the OS resolver's call (dns.lookup, all
      // addresses); the preload answers it for this name only, and /etc/hosts is untouched.
      const preload = new URL('../helpers/hosts-preload.mjs', import.meta.url);
      preload.searchParams.set('hosts', `${name}=127.0.0.1,127.0.0.2`);
      worker = startWorker(
        server,
        'failover-dns',
        dir('drover-dns-work-'),
        [],
        ['--import', preload.href],
      );
      const urlB = b.url.replace(/\/+$/, '');
      const explain = (): string =>
        `--- worker ---\n${worker?.output() ?? ''}\n--- A ---\n${a?.output() ?? ''}\n--- B ---\n${b?.output() ?? ''}`;

      const script =
        `i=1; while [ $i -le ${LINES} ]; do echo "line $i"; i=$((i+1)); sleep 0.4; done; ` +
        'printf "frame %s\\n" 1 2 > "$DROVER_OUTPUT_DIR/frames.txt"';
      const job = await api(urlB, 'POST', '/api/v1/jobs', {
        type: 'shell-script',
        parameters: { script },
      });
      const id = job.id as number;
      const first = await waitFor(
        'the task to run and some lines to arrive',
        60_000,
        async () => {
          const page = await api(urlB, 'GET', `/api/v1/executions?job=${id}`);
          const [execution] = page.items as any[];
          if (execution?.state !== 'RUNNING') return undefined;
          return (await stdoutOf(urlB, execution.id)).length >= 3 ? execution : undefined;
        },
        explain,
      );
      const escaped = server.replace(/\./g, '\\.');
      // The name's first address, named with the name.
      assert.match(
        worker.output(),
        new RegExp(`registered with ${escaped} \\(127\\.0\\.0\\.1\\) as node`),
        explain(),
      );
      assert.doesNotMatch(worker.output(), /moving to/, explain());

      await kill9(a);
      const done = await waitFor(
        'the job to complete through the second address',
        90_000,
        async () => {
          const j = await api(urlB, 'GET', `/api/v1/jobs/${id}`);
          if (j.state === 'FAILED' || j.state === 'CANCELED') {
            throw new Error(`job ended ${j.state}: ${JSON.stringify(j.error)}\n${explain()}`);
          }
          return j.state === 'COMPLETED' ? j : undefined;
        },
        explain,
      );
      assert.equal(done.tasks.completed, 1);
      const executions = (await api(urlB, 'GET', `/api/v1/executions?job=${id}`)).items as any[];
      assert.equal(executions.length, 1, `one execution: ${JSON.stringify(executions)}`);
      assert.equal(executions[0].id, first.id, 'the execution the worker held before the kill');
      assert.equal(executions[0].state, 'COMPLETED');
      const expected = Array.from({ length: LINES }, (_, i) => `line ${i + 1}`);
      assert.deepEqual(await stdoutOf(urlB, first.id), expected, explain());
      const outputs = (await api(urlB, 'GET', `/api/v1/jobs/${id}/outputs`)).items as any[];
      const content = await fetch(`${urlB}/api/v1/outputs/${outputs[0].id}/content`);
      assert.equal(await content.text(), 'frame 1\nframe 2\n');
      assert.match(
        worker.output(),
        new RegExp(
          `${escaped} \\(127\\.0\\.0\\.1\\) failed \\(.*\\); moving to ${escaped} \\(127\\.0\\.0\\.2\\)`,
        ),
        explain(),
      );
    });
  },
);

describe(
  'a worker whose first server is a balancer with no replica behind it',
  { skip: nginxInstalled ? false : 'nginx is not installed', timeout: 120_000 },
  () => {
    const dirs: string[] = [];
    let serve: Child | undefined;
    let balancer: Nginx | undefined;
    let worker: WorkerProcess | undefined;

    after(async () => {
      await worker?.stop();
      await balancer?.stop();
      await kill9(serve);
      for (const path of dirs) rmSync(path, { recursive: true, force: true });
    });

    it('moves on at its 502 and runs the job through the next server', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'drover-failover-502-'));
      dirs.push(dir);
      serve = await startServe(join(dir, 'serve'), await freePort(), undefined, [
        '--local-workers',
        '0',
      ]);
      const url = serve.url.replace(/\/+$/, '');
      // Nothing listens on the upstream's port: nginx answers every request 502.
      const [front, dead] = [await freePort(), await freePort()];
      balancer = startNginx(
        join(dir, 'nginx'),
        `upstream gone { server 127.0.0.1:${dead}; }\n` +
          `server { listen 127.0.0.1:${front}; location / { proxy_pass http://gone; } }\n`,
      );
      const balancerUrl = `http://127.0.0.1:${front}`;
      await waitFor('nginx to answer 502', 20_000, async () => {
        const res = await fetch(`${balancerUrl}/api/v1/ready`).catch(() => undefined);
        return res?.status === 502;
      });

      worker = startWorker(balancerUrl, 'failover-502', join(dir, 'work'), ['--server', url]);
      const explain = (): string => `--- worker ---\n${worker?.output() ?? ''}`;
      const job = await api(url, 'POST', '/api/v1/jobs', {
        type: 'shell-script',
        parameters: { script: 'echo through the second server' },
      });
      await waitFor(
        'the job to complete',
        60_000,
        async () => (await api(url, 'GET', `/api/v1/jobs/${job.id}`)).state === 'COMPLETED',
        explain,
      );
      assert.match(
        worker.output(),
        new RegExp(`${balancerUrl} failed \\(502 HTTP: Bad Gateway\\); moving to ${url}`),
        explain(),
      );
      assert.match(worker.output(), new RegExp(`registered with ${url} as node`), explain());
    });
  },
);
