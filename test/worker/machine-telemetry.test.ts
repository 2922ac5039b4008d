import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { VERSION } from '../../src/domain/version.js';
import { MachineTelemetry, parseNvidiaSmi } from '../../src/worker/machine-telemetry.js';

/*
 * Issue 17, node telemetry on the worker's side: what it reads of this machine, and GPUs
 * only where nvidia-smi answers (a stand-in script plays it here), never invented.
 */

describe('machine telemetry', () => {
  const dir = mkdtempSync(join(os.tmpdir(), 'drover-telemetry-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("reads this machine's memory, load, disk, uptime and version; no GPUs without nvidia-smi", async () => {
    const meter = new MachineTelemetry(dir, join(dir, 'no-such-nvidia-smi'));
    await meter.read();
    // Some CPU time passes between two readings.
    let x = 0;
    for (let i = 0; i < 5e6; i++) x += Math.sqrt(i);
    assert.ok(x > 0);
    const t = await meter.read();
    assert.equal(t.memTotalBytes, os.totalmem());
    assert.ok(t.memUsedBytes! > 0 && t.memUsedBytes! <= t.memTotalBytes!);
    assert.ok(t.cpuPercent! >= 0 && t.cpuPercent! <= 100, String(t.cpuPercent));
    assert.ok(t.diskFreeBytes! > 0 && t.diskFreeBytes! <= t.diskTotalBytes!);
    assert.ok(t.load1! >= 0 && t.load5! >= 0 && t.load15! >= 0);
    assert.ok(t.uptimeSeconds! > 0);
    assert.equal(t.version, VERSION);
    assert.equal('gpus' in t, false);
  });

  it('reports the GPUs nvidia-smi lists, leaving out what it cannot read', async () => {
    const fake = join(dir, 'nvidia-smi');
    writeFileSync(
      fake,
      [
        '#!/bin/sh',
        'echo "0, NVIDIA A100-SXM4-40GB, 37, 1024, 40960"',
        'echo "1, NVIDIA A100-SXM4-40GB, [N/A], 512, 40960"',
      ].join('\n'),
    );
    chmodSync(fake, 0o755);
    const t = await new MachineTelemetry(dir, fake).read();
    assert.deepEqual(t.gpus, [
      {
        index: 0,
        name: 'NVIDIA A100-SXM4-40GB',
        utilizationPercent: 37,
        memUsedBytes: 1024 * 2 ** 20,
        memTotalBytes: 40960 * 2 ** 20,
      },
      {
        index: 1,
        name: 'NVIDIA A100-SXM4-40GB',
        memUsedBytes: 512 * 2 ** 20,
        memTotalBytes: 40960 * 2 ** 20,
      },
    ]);
  });

  it('an nvidia-smi that fails reports no GPUs', async () => {
    const failing = join(dir, 'nvidia-smi-failing');
    writeFileSync(failing, '#!/bin/sh\necho "NVIDIA-SMI has failed" >&2\nexit 9\n');
    chmodSync(failing, 0o755);
    const t = await new MachineTelemetry(dir, failing).read();
    assert.equal('gpus' in t, false);
  });

  it('parses only well-formed lines, within bounds', () => {
    assert.deepEqual(
      parseNvidiaSmi(
        [
          'garbage',
          '70, too high an index, 1, 1, 1',
          '2, , 150, 9, 4',
          '3, T4, [Not Supported], [N/A], 15360',
        ].join('\n'),
      ),
      [
        { index: 2, memTotalBytes: 4 * 2 ** 20 },
        { index: 3, name: 'T4', memTotalBytes: 15360 * 2 ** 20 },
      ],
    );
  });
});
