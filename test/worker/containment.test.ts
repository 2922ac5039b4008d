import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openWorkerCgroup } from '../../src/worker/cgroup.js';
import { Containment } from '../../src/worker/containment.js';
import { killTree, launch } from '../../src/worker/process-tree.js';
import { removeCgroup } from '../../src/worker/task-kill.js';
import { isAlive, waitFor } from './support.js';

/*
 * Issue 12, point 1: every process of a task is killed with it, including one that made a
 * session of its own (setsid) and one that double-forked away from its parent, with and
 * without a cgroup. Real processes; the worker's side only (the e2e worker-containment
 * suite kills a real `drover worker`).
 */

/** Starts three sleepers: the command itself, a setsid child, a double-forked grandchild. */
const ESCAPES = [
  '/bin/sh',
  '-c',
  [
    'setsid sleep 300 & echo $! > setsid.pid',
    '(sleep 300 & echo $! > double.pid) &',
    'echo $$ > main.pid',
    'wait',
  ].join('\n'),
];

const cgroupAvailable = (() => {
  const probe = openWorkerCgroup('auto');
  if (probe.dir) removeCgroup(probe.dir);
  return probe.dir !== undefined;
})();

const log: string[] = [];
const dirs: string[] = [];
after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

async function startEscapes(containment: Containment, executionId: number) {
  const cwd = mkdtempSync(join(tmpdir(), 'drover-containment-'));
  dirs.push(cwd);
  const scope = containment.scope(executionId);
  const env = {
    ...process.env,
    DROVER_NODE_NAME: `containment-test-${process.pid}`,
    DROVER_EXECUTION_ID: String(executionId),
  };
  const launched = await launch(ESCAPES, { cwd, env, onLine: () => undefined, scope });
  const pids = await waitFor('the sleepers to start', 10_000, async () => {
    const files = ['main.pid', 'setsid.pid', 'double.pid'].map((f) => join(cwd, f));
    if (!files.every(existsSync)) return undefined;
    const read = files.map((f) => Number(readFileSync(f, 'utf8')));
    return read.every((pid) => pid > 0) ? read : undefined;
  });
  return { scope, launched, pids };
}

for (const mode of ['auto', 'off'] as const) {
  const skip = mode === 'auto' && !cgroupAvailable ? 'no writable cgroup v2 here' : false;
  describe(`task containment, cgroup ${mode}`, { timeout: 60_000, skip }, () => {
    const containment = Containment.start({
      nodeName: `containment-test-${process.pid}`,
      cgroup: mode,
      log: (m) => log.push(m),
    });
    after(() => containment.close());

    it('uses a cgroup exactly when asked and able', () => {
      assert.equal(containment.usesCgroups, mode === 'auto');
    });

    it('a stop kills the command, its setsid child and its double-forked grandchild', async () => {
      const { scope, launched, pids } = await startEscapes(containment, 900_001);
      assert.ok(pids.every(isAlive));
      await killTree(launched, scope, 1000);
      await scope.release();
      await waitFor('every process of the task to be gone', 10_000, async () =>
        pids.every((pid) => !isAlive(pid)),
      );
    });

    it('an ended command leaves nothing running behind it', async () => {
      const { scope, launched, pids } = await startEscapes(containment, 900_002);
      process.kill(pids[0]!, 'SIGKILL'); // the command ends; its children would run on
      await launched.exited;
      scope.killAll();
      await scope.release();
      await waitFor('the leftovers to be gone', 10_000, async () =>
        pids.every((pid) => !isAlive(pid)),
      );
    });

    it(
      'reads the CPU time of the whole task from its cgroup',
      { skip: mode === 'off' },
      async () => {
        const { scope, launched } = await startEscapes(containment, 900_003);
        scope.killAll();
        await launched.exited;
        const usage = scope.usage();
        await scope.release();
        assert.ok(usage, 'cpu.stat was read');
        assert.ok(usage.cpuSeconds >= 0);
      },
    );

    it('a polite signal reaches each process once, in the group or out of it', async () => {
      // A shell runs its trap once for each signal it receives: a command signalled both
      // through its group and as a member of the task ran its TERM trap twice.
      const counting = (name: string) =>
        `trap 'echo term >> ${name}.terms' TERM; echo $$ > ${name}.pid; while :; do sleep 0.05; done`;
      const cwd = mkdtempSync(join(tmpdir(), 'drover-containment-'));
      dirs.push(cwd);
      const scope = containment.scope(900_005);
      const env = {
        ...process.env,
        DROVER_NODE_NAME: `containment-test-${process.pid}`,
        DROVER_EXECUTION_ID: '900005',
      };
      const script = `setsid bash -c "${counting('setsid')}" &\n${counting('main')}`;
      const launched = await launch(['bash', '-c', script], {
        cwd,
        env,
        onLine: () => undefined,
        scope,
      });
      const files = ['main', 'setsid'];
      await waitFor('both shells to start', 10_000, async () =>
        files.every((f) => existsSync(join(cwd, `${f}.pid`))),
      );
      scope.signal('SIGTERM');
      const terms = (f: string) =>
        existsSync(join(cwd, `${f}.terms`)) ? readFileSync(join(cwd, `${f}.terms`), 'utf8') : '';
      await waitFor('both traps to run', 10_000, async () => files.every((f) => terms(f) !== ''));
      // Time for a second signal's trap to run, had one been sent.
      await new Promise((resolve) => setTimeout(resolve, 500));
      scope.killAll();
      await launched.exited;
      await scope.release();
      for (const f of files) assert.equal(terms(f), 'term\n', `${f}: one TERM`);
    });

    it('a launch of a missing command fails as spawn does', async () => {
      const scope = containment.scope(900_004);
      await assert.rejects(
        launch(['no-such-command-drover'], {
          cwd: tmpdir(),
          env: process.env,
          onLine: () => undefined,
          scope,
        }),
        { code: 'ENOENT' },
      );
      await scope.release();
    });
  });
}
