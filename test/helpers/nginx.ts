import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/* A real nginx, run in the foreground from a directory of its own, for balancer tests. */

export const nginxInstalled = spawnSync('nginx', ['-v']).status === 0;

export interface Nginx {
  process: ChildProcess;
  /** Stops it and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * Writes `site` (an http-level config: upstreams and servers) under `dir`, checks it with
 * `nginx -t` and runs it; the test fails with nginx's message if the check fails.
 */
export function startNginx(dir: string, site: string): Nginx {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'site.conf'), site);
  writeFileSync(
    join(dir, 'nginx.conf'),
    [
      'daemon off;',
      'master_process off;',
      `pid ${dir}/nginx.pid;`,
      `error_log ${dir}/error.log;`,
      'events {}',
      'http {',
      '  access_log off;',
      `  client_body_temp_path ${dir}/body;`,
      `  proxy_temp_path ${dir}/proxy;`,
      `  include ${dir}/site.conf;`,
      '}',
    ].join('\n'),
  );
  const args = ['-p', dir, '-c', join(dir, 'nginx.conf')];
  const checked = spawnSync('nginx', ['-t', ...args], { encoding: 'utf8' });
  assert.equal(checked.status, 0, `nginx -t: ${checked.stderr}`);
  const child = spawn('nginx', args, { stdio: 'ignore' });
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
