/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { VERSION } from '../../src/domain/version.js';
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
  waitFor,
  type E2eServer,
  type WorkerProcess,
} from '../worker/support.js';

/*
 * Issue 17, telemetry from a real `drover worker`. Per node: its heartbeats carry the
 * machine's figures, which the node shows. Per execution: a task that holds 200 MB
 * resident and burns CPU for a second records its CPU time, peak memory and wall time,
 * with a cgroup per task (where this machine allows one: CPU from cpu.stat, and
 * memory.peak where the memory controller is delegated) and without (sampled from /proc).
 */

const cgroupAvailable = (() => {
  const probe = openWorkerCgroup('auto');
  if (probe.dir) removeCgroup(probe.dir);
  return probe.dir !== undefined;
})();

const MB = 1024 * 1024;

const hasNvidiaSmi = spawnSync('nvidia-smi', ['-L']).error === undefined;

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
      worker = startWorker(e2e.url, `usage-${mode}`, join(e2e.dataDir, 'w'), [
        '--cgroup',
        mode,
        '--telemetry-seconds',
        '5',
      ]);
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

    it("the node shows the machine's telemetry, and its history has a point", async () => {
      const node = await waitFor(
        'the node to report telemetry',
        30_000,
        async () => {
          const list = (await e2e.api('GET', '/api/v1/nodes')).body.items as any[];
          const found = list.find((n) => n.name === `usage-${mode}`);
          return found?.telemetry ? found : undefined;
        },
        () => worker.output(),
      );
      const t = node.telemetry;
      assert.equal(t.memTotalBytes, os.totalmem());
      assert.ok(t.memUsedBytes > 0 && t.diskFreeBytes > 0, JSON.stringify(t));
      assert.equal(t.version, VERSION);
      assert.ok(t.uptimeSeconds > 0);
      // This machine has no nvidia-smi unless it has one; never a GPU made up.
      if (!hasNvidiaSmi) assert.equal(t.gpus, undefined);
      const points = await e2e.api('GET', `/api/v1/nodes/${node.id}/telemetry?step=5m`);
      assert.equal(points.status, 200);
      assert.ok(points.body.items.length >= 1);
      assert.equal(points.body.items[0].memTotalBytes, os.totalmem());
    });
  });
}
