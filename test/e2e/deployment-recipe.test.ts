import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { haproxyInstalled, startHaproxy, type Haproxy } from '../helpers/haproxy.js';
import { nginxInstalled, startNginx, type Nginx } from '../helpers/nginx.js';
import { freePort, kill9, startServe, targets, type Child } from '../helpers/serve-process.js';
import { ensureBuilt, ROOT, waitFor } from '../worker/support.js';

/*
 * Issue 18: docs/deployment.md works as written. Every `drover` command in it exists with
 * the flags it gives. On PostgreSQL, with nginx installed, the recipe is followed: migrate,
 * an admin and a node token made with the commands it shows, two replicas started with
 * its environment file, its nginx config (checked by `nginx -t`, then run) in front (and
 * its HAProxy config, checked by `haproxy -c` and run, where HAProxy is installed), a
 * worker configured as its unit file says, and a job submitted and waited for through the
 * balancer with the CLI; then one replica is killed and the balancer still answers ready.
 */

const DOC = readFileSync(join(ROOT, 'docs/deployment.md'), 'utf8');
const postgres = targets.find((t) => t.name === 'postgres');

/** The fenced blocks of `lang` in the document. */
function blocks(lang: string): string[] {
  return [...DOC.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);
}

/** KEY=value lines of the first sh block that sets `key`. */
function envFile(key: string): Record<string, string> {
  const block = blocks('sh').find((b) => b.split('\n').some((l) => l.startsWith(`${key}=`)));
  assert.ok(block, `no environment file with ${key} in the document`);
  const env: Record<string, string> = {};
  for (const line of block.split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line);
    if (m) env[m[1]!] = m[2]!;
  }
  return env;
}

function drover(args: string[], env: Record<string, string> = {}): string {
  const run = spawnSync(process.execPath, ['bin/drover.js', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, NODE_ENV: 'test', ...env },
    timeout: 60_000,
  });
  assert.equal(run.status, 0, `drover ${args.join(' ')}:\n${run.stdout}\n${run.stderr}`);
  return run.stdout;
}

/** Replaces `from` by `to`, once: the test breaks if the document's example changes. */
function replaceOnce(text: string, from: string, to: string): string {
  assert.equal(text.split(from).length, 2, `"${from}" once in the nginx config`);
  return text.replace(from, to);
}

describe('docs/deployment.md', () => {
  before(() => ensureBuilt());

  it('gives only drover commands and flags that exist', () => {
    const units = blocks('ini')
      .join('\n')
      .split('\n')
      .map((l) => /^ExecStart=\S*\/(drover\s.*)$/.exec(l)?.[1])
      .filter((l): l is string => l !== undefined);
    assert.deepEqual(units, ['drover serve', 'drover worker']);
    const lines = [...blocks('sh'), ...units]
      .join('\n')
      .replace(/\\\n\s*/g, ' ')
      .split('\n')
      .map((l) => l.replace(/#.*$/, '').trim())
      .filter((l) => /^drover\s/.test(l));
    assert.ok(lines.length >= 10, `drover commands found: ${lines.length}`);
    const helps = new Map<string, string>();
    for (const line of lines) {
      const words = line.split(/\s+/).slice(1);
      // `drover user add`, `drover token create`: a command and its subcommand.
      const path = ['user', 'token'].includes(words[0]!) ? words.slice(0, 2) : words.slice(0, 1);
      const key = path.join(' ');
      if (!helps.has(key)) helps.set(key, drover([...path, '--help']));
      const help = helps.get(key)!;
      assert.match(help, new RegExp(`Usage: drover ${key}\\b`), line);
      for (const flag of words.filter((w) => w.startsWith('--') && w !== '--')) {
        assert.ok(help.includes(flag.split('=')[0]!), `${line}: ${key} has no ${flag}`);
      }
    }
  });
});

describe(
  'docs/deployment.md followed: two replicas behind nginx, a worker, a job',
  {
    skip: !postgres
      ? 'DROVER_TEST_PG is not set'
      : !nginxInstalled
        ? 'nginx is not installed'
        : false,
    timeout: 180_000,
  },
  () => {
    let database: { db?: string; cleanup(): Promise<void> } | undefined;
    let dir: string;
    let a: Child | undefined;
    let b: Child | undefined;
    let balancer: Nginx | undefined;
    let haproxy: Haproxy | undefined;
    let worker: ChildProcess | undefined;
    let workerOutput = '';

    before(async () => {
      ensureBuilt();
      database = await postgres!.setUp();
      dir = mkdtempSync(join(tmpdir(), 'drover-recipe-'));
    });

    after(async () => {
      if (worker && worker.exitCode === null) {
        worker.kill('SIGTERM');
        await new Promise((r) => worker!.once('exit', r));
      }
      await balancer?.stop();
      await haproxy?.stop();
      await kill9(a);
      await kill9(b);
      await database?.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    it('runs a job through the balancer, and the balancer outlives a replica', async () => {
      const db = { DROVER_DB: database!.db! };
      // 1 and 2: the database's schema, the admin and the workers' tokens.
      drover(['migrate'], db);
      drover(['user', 'add', 'alice', '--role', 'admin'], db);
      const admin = drover(['token', 'create', '--user', 'alice', '--name', 'laptop'], db).trim();
      drover(['user', 'add', 'farm-nodes', '--role', 'node'], db);
      const node = drover(['token', 'create', '--user', 'farm-nodes', '--name', 'workers'], db);

      // 3: the replicas, with the document's environment file (here on loopback ports).
      const env = envFile('DROVER_AUTH');
      assert.equal(env.DROVER_AUTH, 'true');
      assert.equal(env.DROVER_DEADLINE_PORT, '0');
      const flags = ['--auth', env.DROVER_AUTH!, '--deadline-port', env.DROVER_DEADLINE_PORT!];
      const ports = [await freePort(), await freePort()];
      a = await startServe(join(dir, 'a'), ports[0]!, database!.db, flags);
      b = await startServe(join(dir, 'b'), ports[1]!, database!.db, flags);

      // 5: the nginx config as written, its addresses replaced, checked and run.
      const [site] = blocks('nginx');
      assert.ok(site, 'no nginx config in the document');
      const listen = await freePort();
      let conf = replaceOnce(site, 'listen 80;', `listen 127.0.0.1:${listen};`);
      conf = replaceOnce(conf, 'server 10.0.0.11:8080', `server 127.0.0.1:${ports[0]}`);
      conf = replaceOnce(conf, 'server 10.0.0.12:8080', `server 127.0.0.1:${ports[1]}`);
      balancer = startNginx(join(dir, 'nginx'), conf);
      const front = `http://127.0.0.1:${listen}`;
      await waitFor('nginx to pass /api/v1/ready', 20_000, async () => {
        const res = await fetch(`${front}/api/v1/ready`).catch(() => undefined);
        return res?.status === 200;
      });

      // The HAProxy alternative, where it is installed: checked, run, polling readiness.
      let haproxyUrl: string | undefined;
      if (haproxyInstalled) {
        const [sections] = blocks('haproxy');
        assert.ok(sections, 'no HAProxy config in the document');
        const port = await freePort();
        let cfg = replaceOnce(sections, 'bind :80', `bind 127.0.0.1:${port}`);
        cfg = replaceOnce(cfg, 'server a 10.0.0.11:8080', `server a 127.0.0.1:${ports[0]}`);
        cfg = replaceOnce(cfg, 'server b 10.0.0.12:8080', `server b 127.0.0.1:${ports[1]}`);
        haproxy = startHaproxy(join(dir, 'haproxy'), cfg);
        haproxyUrl = `http://127.0.0.1:${port}`;
        await waitFor('HAProxy to pass /api/v1/ready', 20_000, async () => {
          const res = await fetch(`${haproxyUrl}/api/v1/ready`).catch(() => undefined);
          return res?.status === 200;
        });
      }

      // 6: a worker as the unit file starts it: everything from its environment file.
      const workerEnv = envFile('DROVER_SLOTS');
      assert.match(workerEnv.DROVER_SERVER!, /,/, 'the worker is given several servers');
      worker = spawn(process.execPath, ['bin/drover.js', 'worker'], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          NODE_ENV: 'test',
          DROVER_SERVER: `${a.url},${b.url}`,
          DROVER_TOKEN: node.trim(),
          DROVER_SLOTS: workerEnv.DROVER_SLOTS!,
          DROVER_WORK_DIR: join(dir, 'work'),
          DROVER_WORKER_NAME: 'recipe-worker',
        },
      });
      worker.stdout!.on('data', (c: Buffer) => (workerOutput += c.toString()));
      worker.stderr!.on('data', (c: Buffer) => (workerOutput += c.toString()));

      // 7: the first job, through the balancer, with the admin token.
      const cli = { DROVER_SERVER: front, DROVER_TOKEN: admin };
      await waitFor(
        'the worker to register',
        30_000,
        async () => drover(['nodes', '--json'], cli).includes('recipe-worker'),
        () => workerOutput,
      );
      const id = drover(['submit', '--', 'echo', 'hello'], cli).trim();
      assert.match(id, /^\d+$/);
      drover(['wait', id], cli);
      assert.match(drover(['logs', id], cli), /hello/);

      // UFDL's job WebSocket upgrades through the balancer (browsers pass the token in the URL).
      const socket = new WebSocket(`${front.replace('http', 'ws')}/v1/jobs/${id}?token=${admin}`);
      const upgraded = await new Promise<boolean>((resolve) => {
        socket.once('open', () => resolve(true));
        socket.once('error', () => resolve(false));
        socket.once('unexpected-response', () => resolve(false));
      });
      socket.terminate();
      assert.ok(upgraded, 'the WebSocket upgrade passed through nginx');

      // A replica gone: the balancer passes requests to the other.
      await kill9(a);
      for (let i = 0; i < 4; i++) {
        const res = await fetch(`${front}/api/v1/ready`);
        assert.equal(res.status, 200, `ready through nginx with replica A dead (${i})`);
      }
      assert.match(drover(['show', id], cli), /COMPLETED/);
      if (haproxyUrl) {
        for (let i = 0; i < 4; i++) {
          const res = await fetch(`${haproxyUrl}/api/v1/ready`);
          assert.equal(res.status, 200, `ready through HAProxy with replica A dead (${i})`);
        }
      }
    });
  },
);
