import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openWorkerCgroup } from '../../src/worker/cgroup.js';
import { removeCgroup } from '../../src/worker/task-kill.js';
import { TEST_DATABASES } from '../helpers/databases.js';
import {
  ensureBuilt,
  executionsOf,
  jobEnded,
  startE2eServer,
  startWorker,
  submitScript,
  type E2eServer,
  type WorkerProcess,
} from '../worker/support.js';

/*
 * Issue 17, telemetry per execution: a real `drover worker` runs a task that holds 200 MB
 * resident and burns CPU for a second; the execution records its CPU time, peak memory and
 * wall time. With a cgroup per task (where this machine allows one: CPU from cpu.stat, and
 * memory.peak where the memory controller is delegated) and without (sampled from /proc).
 */

const cgroupAvailable = (() => {
  const probe = openWorkerCgroup('auto');
  if (probe.dir) removeCgroup(probe.dir);
  return probe.dir !== undefined;
})();

const MB = 1024 * 1024;

/**
 * The task: a Node process whose resident set reaches 200 MB in all (it allocates 200 MB
 * less its own resident set at start, and touches every page), then burns CPU for a second
 * of wall time while holding it.
 */
const task = [
  `const target = ${200 * MB};`,
  'const held = Buffer.alloc(target - process.memoryUsage().rss, 1);',
  'const until = Date.now() + 1000;',
  'let x = 0;',
  'while (Date.now() < until) x += Math.sqrt(x + held[x % held.length]);',
  'console.log("done", held.length, x > 0);',
].join(' ');

for (const [database, mode] of TEST_DATABASES.flatMap((d) =>
  (['auto', 'off'] as const).map((m) => [d, m] as const),
)) {
  const skip = mode === 'auto' && !cgroupAvailable ? 'no writable cgroup v2 here' : false;
  describe(`execution usage, cgroup ${mode} (${database.name})`, { timeout: 120_000, skip }, () => {
    let e2e: E2eServer;
    let worker: WorkerProcess;

    before(async () => {
      ensureBuilt();
      e2e = await startE2eServer({}, database);
      worker = startWorker(e2e.url, `usage-${mode}`, join(e2e.dataDir, 'w'), ['--cgroup', mode]);
    });

    after(async () => {
      await worker?.stop();
      await e2e?.close();
    });

    it('records CPU time, peak memory within 20% of 200 MB, and wall time', async (t) => {
      const script = `'${process.execPath}' -e '${task}'`;
      const id = await submitScript(e2e, script);
      const job = await jobEnded(e2e, id, worker);
      assert.equal(job.state, 'COMPLETED', worker.output());
      const [execution] = await executionsOf(e2e, id);
      const usage = execution.usage as Record<string, number | null>;
      assert.ok(usage.cpuSeconds! > 0, JSON.stringify(usage));
      t.diagnostic(`usage: ${JSON.stringify(usage)}`);
      const peak = usage.peakMemoryBytes!;
      assert.ok(
        peak >= 160 * MB && peak <= 240 * MB,
        `peak ${(peak / MB).toFixed(1)} MB is not within 20% of 200 MB`,
      );
      // The task ran its second of wall time by its own clock, so at least that long.
      assert.ok(usage.wallSeconds! >= 1, JSON.stringify(usage));
      assert.equal(usage.gpuSeconds, null);
      // The task's own view is the same as the execution's.
      const one = await e2e.api('GET', `/api/v1/executions/${execution.id}`);
      assert.deepEqual(one.body.usage, usage);
    });
  });
}
