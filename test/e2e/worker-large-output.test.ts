/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import {
  ensureBuilt,
  jobEnded,
  startE2eServer,
  startWorker,
  submitScript,
  waitFor,
  type E2eServer,
  type WorkerProcess,
} from '../worker/support.js';

/*
 * Issue 12: `drover worker` streams an output file from disk rather than reading it whole.
 * A real worker uploads a 128 MB file its task wrote; the stored and downloaded bytes hash
 * as the task's own sha256sum said, and the worker's peak resident memory grew by less than
 * half the file (reading it whole costs the whole file, and fetch a copy more).
 */

const MB = 1024 * 1024;
const SIZE = 128 * MB;

/** Peak resident set of a process so far, bytes (Linux). */
function peakRss(pid: number): number {
  const kb = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) * 1024;
}

describe('a worker streams a large output file', { timeout: 120_000 }, () => {
  let e2e: E2eServer;
  let worker: WorkerProcess;

  before(async () => {
    ensureBuilt();
    e2e = await startE2eServer();
    worker = startWorker(e2e.url, 'large-output', join(e2e.dataDir, 'w'));
  });

  after(async () => {
    await worker?.stop();
    await e2e?.close();
  });

  it(`uploads ${SIZE / MB} MB intact, its memory growing by less than half of it`, async () => {
    // The worker is up once it has registered and asked for work: its baseline.
    await waitFor(
      'the worker to register',
      30_000,
      async () =>
        ((await e2e.api('GET', '/api/v1/nodes')).body.items as any[]).some(
          (n) => n.name === 'large-output',
        ),
      () => worker.output(),
    );
    const before = peakRss(worker.child.pid!);
    const id = await submitScript(
      e2e,
      `head -c ${SIZE} /dev/urandom > "$DROVER_OUTPUT_DIR/big.bin" && ` +
        'sha256sum "$DROVER_OUTPUT_DIR/big.bin"',
    );
    const job = await jobEnded(e2e, id, worker);
    assert.equal(job.state, 'COMPLETED', worker.output());
    const grown = peakRss(worker.child.pid!) - before;

    const [output] = (await e2e.api('GET', `/api/v1/jobs/${id}/outputs`)).body.items as any[];
    assert.equal(output.name, 'big.bin');
    assert.equal(output.size, SIZE);
    const executions = (await e2e.api('GET', `/api/v1/executions?job=${id}`)).body.items as any[];
    const log = await e2e.api('GET', `/api/v1/executions/${executions[0].id}/logs`);
    const lines = (log.body.lines as any[]).map((l) => l.text as string);
    const taskSha = lines.map((text) => /^([0-9a-f]{64}) /.exec(text)?.[1]).find(Boolean);
    assert.ok(taskSha, `no sha256sum in the log: ${lines.join('\n')}`);
    assert.equal(output.sha256, taskSha, 'the stored hash is the one the task computed');
    const res = await fetch(`${e2e.url}/api/v1/outputs/${output.id}/content`);
    const hash = createHash('sha256');
    for await (const chunk of Readable.fromWeb(res.body as any)) hash.update(chunk as Buffer);
    assert.equal(hash.digest('hex'), taskSha, 'the download is the file the task wrote');

    assert.ok(
      grown < SIZE / 2,
      `the worker's peak memory grew by ${(grown / MB).toFixed(0)} MB for a ${SIZE / MB} MB file`,
    );
  });
});
