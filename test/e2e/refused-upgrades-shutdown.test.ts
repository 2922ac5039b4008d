import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildOnce } from '../cli/support.js';
import { freePort, kill9, startServe, targets, type Child } from '../helpers/serve-process.js';

/*
 * Issue 11, hole 3, against a real `drover serve --auth`: 300 refused WebSocket upgrades
 * are each answered and closed by the server (none is left holding a descriptor), and
 * SIGTERM afterwards still stops the process promptly. Before the fix, 300 such requests
 * held 300 sockets for over 75 s and SIGTERM hung.
 */

const UPGRADES = 300;
/** Generous on a busy machine; a hang is what this catches, not a slow exit. */
const EXIT_BOUND_MS = 10_000;

/**
 * Sends one upgrade request with a raw socket, which this side never closes: it resolves
 * with the status line once the server has closed the connection.
 */
function refusedUpgrade(port: number, path: string, token?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(answer.split('\r\n')[0] ?? ''));
    socket.write(
      [
        `GET ${path} HTTP/1.1`,
        `Host: 127.0.0.1:${port}`,
        'Connection: Upgrade',
        'Upgrade: websocket',
        'Sec-WebSocket-Version: 13',
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
        ...(token ? [`Authorization: Bearer ${token}`] : []),
        '',
        '',
      ].join('\r\n'),
    );
  });
}

for (const target of targets) {
  describe(`refused upgrades and SIGTERM, real drover serve (${target.name})`, () => {
    // A leaked socket never closes, so a regression shows as this timeout rather than a hang.
    const options = { timeout: 120_000 };
    it(
      `${UPGRADES} refused upgrades are closed by the server; SIGTERM then exits promptly`,
      options,
      async () => {
        await buildOnce();
        const { db, cleanup } = await target.setUp();
        const dataDir = mkdtempSync(join(tmpdir(), 'drover-upgrades-'));
        let server: Child | undefined;
        try {
          const port = await freePort();
          server = await startServe(dataDir, port, db, ['--auth']);
          const lines = await Promise.all(
            Array.from({ length: UPGRADES }, (_, i) =>
              refusedUpgrade(
                port,
                `/v1/jobs/${(i % 3) + 1}`,
                i % 2 ? 'drv_not-a-token' : undefined,
              ),
            ),
          );
          // Every one answered 401 and then closed by the server (else `close` never came).
          assert.deepEqual(new Set(lines), new Set(['HTTP/1.1 401 Unauthorized']));

          const started = Date.now();
          server.process.kill('SIGTERM');
          const exited = await Promise.race([
            server.exited.then(() => true),
            new Promise<false>((resolve) => setTimeout(() => resolve(false), EXIT_BOUND_MS)),
          ]);
          const took = Date.now() - started;
          process.stdout.write(`# drover serve exited ${took} ms after SIGTERM\n`);
          assert.ok(exited, `drover serve still ran ${EXIT_BOUND_MS} ms after SIGTERM`);
          assert.equal(server.process.exitCode, 0, server.output());
        } finally {
          await kill9(server);
          rmSync(dataDir, { recursive: true, force: true });
          await cleanup();
        }
      },
    );
  });
}
