import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/* A real HAProxy, run in the foreground, for balancer tests. */

export const haproxyInstalled = spawnSync('haproxy', ['-v']).status === 0;

export interface Haproxy {
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Writes `sections` (frontends and backends) after a minimal global and defaults under
 * `dir`, checks the file with `haproxy -c` and runs it.
 */
export function startHaproxy(dir: string, sections: string): Haproxy {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'haproxy.cfg');
  writeFileSync(
    file,
    [
      'global',
      '    log stdout format raw local0 warning',
      'defaults',
      '    mode http',
      '    timeout connect 5s',
      '    timeout client 30s',
      '    timeout server 30s',
      '',
      sections,
    ].join('\n'),
  );
  const checked = spawnSync('haproxy', ['-c', '-f', file], { encoding: 'utf8' });
  assert.equal(checked.status, 0, `haproxy -c: ${checked.stdout}${checked.stderr}`);
  // -db: in the foreground, not as a daemon.
  const child = spawn('haproxy', ['-db', '-f', file], { stdio: 'ignore' });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  return {
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}
