/* eslint-disable @typescript-eslint/no-explicit-any -- the server's JSON answers */
/*
 * Memory of the server during large uploads: --uploads concurrent output uploads of --mb
 * MB each (raw bodies streamed by this process, never held whole) to one live execution of
 * a real `drover serve` (the built dist/, as operators run it; `npm run build` first). Prints the server's resident memory before, its peak
 * (VmHWM of /proc/<pid>/status, so no short peak between samples is missed) and the
 * throughput. Issue 12 measured 380 MB more per 200 MB upload and 1.4 GB for three when
 * uploads were buffered; the target is a peak under 200 MB.
 *
 *   npx tsx bench/uploads.ts [--db sqlite|postgres|both] [--mb 200] [--uploads 3] [--budget 600]
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { parseArgs } from 'node:util';
import { freshDatabase } from './fresh-database.js';
import { databaseKinds, positive } from './support/cli.js';
import { onCleanup, runBounded } from './support/run-bounds.js';
import { againstTarget } from './support/stats.js';

const { values: args } = parseArgs({
  options: {
    db: { type: 'string', default: 'both' },
    mb: { type: 'string', default: '200' },
    uploads: { type: 'string', default: '3' },
    budget: { type: 'string', default: '600' },
  },
});
const KINDS = databaseKinds(args.db);
const MB = positive('mb', args.mb);
const UPLOADS = positive('uploads', args.uploads);
const BUDGET_S = positive('budget', args.budget);
const TARGET_PEAK_MB = 200;
const CHUNK = Buffer.alloc(1024 * 1024, 'drover ');

/** A figure of /proc/<pid>/status (VmRSS, VmHWM) in MB. */
function statusMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

async function post(url: string, body: unknown): Promise<any> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? undefined : res.json();
}

/** Streams `mb` MB of CHUNK as one output; resolves with the server's answer. */
function upload(url: string, mb: number): Promise<{ status: number; body: any; sha256: string }> {
  const hash = createHash('sha256');
  return new Promise((resolve, reject) => {
    const request = http.request(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/octet-stream',
        'content-length': String(mb * CHUNK.length),
      },
    });
    request.once('error', reject);
    request.once('response', (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.once('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: JSON.parse(text),
          sha256: hash.digest('hex'),
        }),
      );
    });
    void (async () => {
      for (let i = 0; i < mb; i++) {
        hash.update(CHUNK);
        if (!request.write(CHUNK)) await new Promise((r) => request.once('drain', r));
      }
      request.end();
    })();
  });
}

interface Serve {
  api: string;
  pid: number;
  stop(): Promise<void>;
}

/** Starts `drover serve` from dist/ on a free port and waits until it listens. */
async function startServe(db: string, dataDir: string): Promise<Serve> {
  const root = new URL('..', import.meta.url);
  const child = spawn(
    process.execPath,
    ['bin/drover.js', 'serve', '--db', db, '--data-dir', dataDir, '--port', '0'].concat([
      '--deadline-port',
      '0',
      '--log-level',
      'error',
    ]),
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  onCleanup(stop);
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const m = /listening on (http:\/\/\S+)/.exec(output);
      if (m?.[1]) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`drover serve exited (${code}):\n${output}`)));
  });
  return { api: `${url}/api/v1`, pid: child.pid!, stop };
}

async function measure(server: Serve): Promise<void> {
  const node = await post(`${server.api}/nodes`, { name: 'uploader' });
  await post(`${server.api}/jobs`, { type: 'shell-script', parameters: { script: 'true' } });
  const order = await post(`${server.api}/nodes/${node.id}/acquire`, {});
  const before = statusMb(server.pid, 'VmRSS');
  let sampledPeak = before;
  const sampler = setInterval(() => {
    sampledPeak = Math.max(sampledPeak, statusMb(server.pid, 'VmRSS'));
  }, 50);
  const started = performance.now();
  const results = await Promise.all(
    Array.from({ length: UPLOADS }, (_, i) =>
      upload(
        `${server.api}/executions/${order.execution.id}/outputs?nodeId=${node.id}&name=big-${i}.bin`,
        MB,
      ),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  for (const r of results) {
    if (r.status !== 201) throw new Error(`upload answered ${r.status}: ${JSON.stringify(r.body)}`);
    if (r.body.sha256 !== r.sha256) throw new Error('the stored sha256 differs from the sent one');
  }
  const peak = statusMb(server.pid, 'VmHWM');
  console.log(`  RSS before the uploads     ${before.toFixed(0)} MB`);
  console.log(`  RSS peak (sampled, 50 ms)  ${sampledPeak.toFixed(0)} MB`);
  console.log(`  RSS peak (VmHWM)           ${againstTarget(peak, TARGET_PEAK_MB, 'MB', 0)}`);
  console.log(
    `  ${UPLOADS} × ${MB} MB in ${seconds.toFixed(1)} s: ${((UPLOADS * MB) / seconds).toFixed(0)} MB/s`,
  );
}

await runBounded(BUDGET_S, async () => {
  for (const kind of KINDS) {
    console.log(`${kind}: ${UPLOADS} concurrent uploads of ${MB} MB`);
    const database = await freshDatabase(kind);
    onCleanup(database.cleanup);
    const server = await startServe(database.url, database.dataDir);
    try {
      await measure(server);
    } finally {
      await server.stop();
      await database.cleanup();
    }
  }
});
