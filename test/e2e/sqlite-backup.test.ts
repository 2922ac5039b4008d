/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import SQLite from 'better-sqlite3';
import { freePort, kill9, startServe, type Child } from '../helpers/serve-process.js';
import { ensureBuilt, ROOT, startWorker, waitFor, type WorkerProcess } from '../worker/support.js';

/*
 * Issue 18: the SQLite backup and restore of docs/deployment.md, section 8, run as written
 * (their shell blocks, with the document's /var/lib/drover and /backup moved under a
 * temporary directory, and `drover` the build's). The backup is taken while a server and
 * a worker write: jobs submitted one after another, each run, logged and leaving an output
 * file. A server started on a copy of the backup has every job acknowledged before the
 * backup began, each job's counters agree with its tasks, and every completed job's output
 * can be read (its blob file was copied). Then the server dies (SIGKILL: its -wal and -shm
 * files stay, with commits after the backup), the restore block is run, and a server on
 * the restored file has the backup's jobs and no others.
 */

const DOC = readFileSync(join(ROOT, 'docs/deployment.md'), 'utf8');
const section = DOC.slice(DOC.indexOf('## 8. Backups'), DOC.indexOf('## 9.'));
const shBlocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
const BACKUP = shBlocks.find((b) => /^drover backup /m.test(b));
const RESTORE = shBlocks.find((b) => /^systemctl stop drover$/m.test(b));

/** Runs a shell line (asynchronously: the writers go on meanwhile); fails on non-zero. */
function sh(line: string, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', line], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.once('exit', (code) =>
      code === 0 ? resolve(output) : reject(new Error(`${line}: exit ${code}\n${output}`)),
    );
  });
}

async function api(url: string, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(url + path, {
    method,
    signal: AbortSignal.timeout(20_000),
    ...(body !== undefined
      ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }
      : {}),
  });
  const text = await res.text();
  if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

async function allJobs(url: string): Promise<any[]> {
  const jobs: any[] = [];
  for (let offset = 0; ; offset += 1000) {
    const page = await api(url, 'GET', `/api/v1/jobs?sort=id&limit=1000&offset=${offset}`);
    jobs.push(...page.items);
    if (page.items.length < 1000) return jobs;
  }
}

/** Every job's counters agree with its tasks; every completed job's output reads back. */
async function checkFarm(url: string): Promise<any[]> {
  const jobs = await allJobs(url);
  for (const job of jobs) {
    const tasks = (await api(url, 'GET', `/api/v1/jobs/${job.id}/tasks?limit=1000`)).items;
    assert.equal(job.tasks.total, tasks.length, `job ${job.id}: tasks counted`);
    for (const state of ['queued', 'running', 'completed', 'failed'] as const) {
      const n = tasks.filter((t: any) => t.state.toLowerCase() === state).length;
      assert.equal(job.tasks[state], n, `job ${job.id}: ${state} tasks`);
    }
    if (job.state !== 'COMPLETED') continue;
    const outputs = (await api(url, 'GET', `/api/v1/jobs/${job.id}/outputs`)).items;
    assert.equal(outputs.length, 1, `job ${job.id}: its output`);
    const res = await fetch(`${url}/api/v1/outputs/${outputs[0].id}/content`);
    assert.equal(res.status, 200, `job ${job.id}: output content`);
    assert.equal(await res.text(), `output of ${job.name}\n`);
  }
  return jobs;
}

describe('docs/deployment.md: SQLite backup and restore, as written', { timeout: 240_000 }, () => {
  let dir: string;
  let server: Child | undefined;
  let copy: Child | undefined;
  let worker: WorkerProcess | undefined;

  before(() => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'drover-backup-'));
  });

  after(async () => {
    await worker?.stop();
    await kill9(server);
    await kill9(copy);
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses an existing backup name, a missing database and PostgreSQL, saying why', () => {
    const run = (...args: string[]) =>
      spawnSync(process.execPath, ['bin/drover.js', 'backup', ...args], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, NODE_ENV: 'test' },
        timeout: 60_000,
      });
    const db = join(dir, 'refusals.sqlite');
    const made = new SQLite(db);
    made.exec('CREATE TABLE t (x)');
    made.close();
    const taken = join(dir, 'taken.sqlite');
    writeFileSync(taken, 'an earlier backup');
    const cases: [string[], RegExp][] = [
      [['--db', db, taken], /taken\.sqlite exists: back up to a new name/],
      [
        ['--db', join(dir, 'none.sqlite'), join(dir, 'x.sqlite')],
        /none\.sqlite: no such database file/,
      ],
      [['--db', 'postgres://u@127.0.0.1:1/farm', join(dir, 'y.sqlite')], /backed up with pg_dump/],
    ];
    for (const [args, message] of cases) {
      const result = run(...args);
      assert.equal(result.status, 1, `${args.join(' ')}: ${result.stdout}${result.stderr}`);
      assert.match(result.stderr, message);
    }
    assert.equal(readFileSync(taken, 'utf8'), 'an earlier backup', 'left as it was');
  });

  it('backs up a busy farm, starts on the copy, and restores it', async () => {
    assert.ok(BACKUP, 'a `drover backup` block in section 8');
    assert.ok(RESTORE, 'a restore block (systemctl stop drover …) in section 8');
    const data = join(dir, 'var/lib/drover');
    const backups = join(dir, 'backup');
    const bin = join(dir, 'bin');
    for (const d of [data, backups, bin]) mkdirSync(d, { recursive: true });
    // `drover` on the PATH is this build, as the document's commands expect.
    writeFileSync(
      join(bin, 'drover'),
      `#!/bin/sh\nexec "${process.execPath}" "${ROOT}/bin/drover.js" "$@"\n`,
    );
    chmodSync(join(bin, 'drover'), 0o755);
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}`, NODE_ENV: 'test' };
    const local = (text: string): string =>
      text.replaceAll('/var/lib/drover/', `${data}/`).replaceAll('/backup/', `${backups}/`);

    const db = join(data, 'drover.sqlite');
    const port = await freePort();
    const start = (): Promise<Child> =>
      startServe(join(dir, 'serve-data'), port, db, ['--local-workers', '0']);
    server = await start();
    const url = server.url.replace(/\/+$/, '');
    worker = startWorker(url, 'backup-worker', join(dir, 'work'));

    // The writers: a job after another, each writing a log line and an output file.
    const acknowledged: number[] = [];
    let writing = true;
    const writer = (async () => {
      for (let n = 1; writing; n++) {
        const name = `load-${n}`;
        const job = await api(url, 'POST', '/api/v1/jobs', {
          type: 'shell-script',
          name,
          parameters: {
            script: `echo running ${name}; echo "output of ${name}" > "$DROVER_OUTPUT_DIR/out.txt"`,
          },
        });
        acknowledged.push(job.id as number);
      }
    })();
    await waitFor('some jobs to complete before the backup', 60_000, async () => {
      const done = await api(url, 'GET', '/api/v1/jobs?state=COMPLETED&limit=1');
      return done.total >= 5;
    });

    const before = [...acknowledged];
    const said = await sh(local(BACKUP), env);
    writing = false;
    await writer;
    assert.match(said, /backed up .* \(.* MiB, integrity ok\) and \d+ blob file\(s\)/);

    const [file] = readdirSync(backups).filter((f) => f.endsWith('.sqlite'));
    assert.ok(file, `a backup file in ${backups}: ${readdirSync(backups).join(', ')}`);
    const backupFile = join(backups, file);
    const check = new SQLite(backupFile, { readonly: true });
    assert.equal(check.pragma('integrity_check', { simple: true }), 'ok');
    check.close();

    // A server on a copy of the backup (a server writes to its file; the backup stays as
    // it is for the restore below).
    const scratch = join(dir, 'scratch');
    mkdirSync(scratch);
    cpSync(backupFile, join(scratch, 'drover.sqlite'));
    cpSync(`${backupFile}-blobs`, join(scratch, 'drover.sqlite-blobs'), { recursive: true });
    copy = await startServe(
      join(dir, 'copy-data'),
      await freePort(),
      join(scratch, 'drover.sqlite'),
      ['--local-workers', '0'],
    );
    const copyUrl = copy.url.replace(/\/+$/, '');
    const inBackup = await checkFarm(copyUrl);
    const ids = inBackup.map((j) => j.id as number);
    for (const id of before)
      assert.ok(ids.includes(id), `job ${id}, acknowledged before the backup`);
    // One commit's database: the jobs are those of ids 1…n, nothing missing in between.
    assert.deepEqual(
      ids,
      Array.from({ length: ids.length }, (_, i) => i + 1),
    );
    assert.ok(
      inBackup.some((j) => j.state === 'COMPLETED'),
      'completed jobs with outputs',
    );
    await kill9(copy);

    // The farm goes on after the backup (one job more at least); then its server dies.
    await api(url, 'POST', '/api/v1/jobs', {
      type: 'shell-script',
      name: 'after-the-backup',
      parameters: { script: 'echo late > "$DROVER_OUTPUT_DIR/out.txt"' },
    });
    await worker.stop();
    const lastOnFarm = (await allJobs(url)).at(-1).id as number;
    assert.ok(lastOnFarm > ids.at(-1)!, 'jobs after the backup, which the restore drops');
    await kill9(server);

    // The restore block, line by line; systemctl is the test's own stop and start.
    const date = /^drover-(.*)\.sqlite$/.exec(file)![1]!;
    for (const line of RESTORE.split('\n').filter((l) => l.trim() && !l.startsWith('#'))) {
      if (line === 'systemctl stop drover') continue; // stopped above (killed)
      if (line === 'systemctl start drover') {
        server = await start();
        continue;
      }
      await sh(local(line).replaceAll('2026-01-01', date), env);
    }
    const restored = await checkFarm(url);
    assert.deepEqual(
      restored.map((j) => j.id),
      ids,
      "the backup's jobs, and none of those after it",
    );
    const again = new SQLite(db, { readonly: true });
    assert.equal(again.pragma('integrity_check', { simple: true }), 'ok');
    again.close();
  });
});
