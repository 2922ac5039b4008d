import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** How long stop() waits for a worker to kill its tasks before it is killed itself. */
const STOP_TIMEOUT_MS = 15_000;

/**
 * Worker processes that `drover serve --local-workers N` runs beside the server, each a
 * real `drover worker` with its own work directory, their output prefixed with their name.
 */
export async function startLocalWorkers(
  serverUrl: string,
  count: number,
  dataDir: string,
): Promise<{ stop(): Promise<void> }> {
  const bin = fileURLToPath(new URL('../../bin/drover.js', import.meta.url));
  const children: { child: ChildProcess; exited: Promise<void> }[] = [];
  for (let i = 1; i <= count; i++) {
    const name = `${os.hostname()}-local-${i}`;
    const args = [
      bin,
      'worker',
      '--server',
      serverUrl,
      '--name',
      name,
      '--work-dir',
      join(dataDir, 'work', String(i)),
    ];
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: process.env,
    });
    const prefix = `[local-${i}] `;
    for (const [stream, out] of [
      [child.stdout, process.stdout],
      [child.stderr, process.stderr],
    ] as const) {
      if (!stream) continue;
      createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) =>
        out.write(prefix + line + '\n'),
      );
    }
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.once('exit', (code, signal) => {
      if (code !== 0 && signal !== 'SIGTERM') {
        process.stderr.write(`${prefix}worker exited (${signal ?? `code ${code}`})\n`);
      }
    });
    children.push({ child, exited });
  }
  return {
    async stop() {
      await Promise.all(
        children.map(async ({ child, exited }) => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
          await exited;
          clearTimeout(timer);
        }),
      );
    },
  };
}
