import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, targets } from '../helpers/serve-process.js';
import { buildOnce, ROOT, type Run } from './support.js';

/*
 * `drover serve` on a port something else holds: the message names the face whose port is
 * taken and the option that moves it (or turns it off), and no stack trace is printed.
 */

async function occupy(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { server, port: typeof address === 'object' && address ? address.port : 0 };
}

function serve(args: readonly string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'drover.js'), 'serve', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'test' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    // A serve that started after all would run on: stop it so the test fails, not hangs.
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
  });
}

for (const target of targets) {
  describe(`drover serve on a port that is taken (${target.name})`, () => {
    let taken: { server: Server; port: number };
    let dataDir: string;
    let db: { db?: string; cleanup(): Promise<void> };
    before(async () => {
      await buildOnce();
      taken = await occupy();
      dataDir = mkdtempSync(join(tmpdir(), 'drover-ports-'));
      db = await target.setUp();
    });
    after(async () => {
      await new Promise((resolve) => taken?.server.close(resolve));
      rmSync(dataDir, { recursive: true, force: true });
      await db?.cleanup();
    });

    const common = () => [
      '--data-dir',
      dataDir,
      '--log-level',
      'warn',
      ...(db.db ? ['--db', db.db] : []),
    ];

    it('names the Deadline listener and how to move it or turn it off', async () => {
      const native = await freePort();
      const run = await serve([
        ...common(),
        '--port',
        String(native),
        '--deadline-port',
        String(taken.port),
      ]);
      assert.equal(run.code, 1, `${run.stdout}${run.stderr}`);
      assert.equal(
        run.stderr,
        `drover: port ${taken.port} on 127.0.0.1 is taken: it is the Deadline Web Service listener; move it with --deadline-port N (DROVER_DEADLINE_PORT) or turn it off with --deadline-port 0\n`,
      );
      assert.doesNotMatch(run.stdout, /\n\s+at /);
      // The native listener that had started is closed again: its port is free.
      const again = await occupyPort(native);
      await new Promise((resolve) => again.close(resolve));
    });

    it('names the native API listener and how to move it', async () => {
      const run = await serve([...common(), '--port', String(taken.port), '--deadline-port', '0']);
      assert.equal(run.code, 1, `${run.stdout}${run.stderr}`);
      assert.equal(
        run.stderr,
        `drover: port ${taken.port} on 127.0.0.1 is taken: it is the native API and web UI listener; move it with --port N (DROVER_PORT)\n`,
      );
      assert.doesNotMatch(run.stdout, /\n\s+at /);
    });
  });
}

/** Listens on `port`, failing if it is still held. */
async function occupyPort(port: number): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return server;
}
