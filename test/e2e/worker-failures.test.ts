/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  ensureBuilt,
  executionsOf,
  jobEnded,
  isAlive,
  jobState,
  startE2eServer,
  startWorker,
  submitScript,
  waitFor,
  type E2eServer,
  type WorkerProcess,
} from '../worker/support.js';

/*
 * Issue 3, "done when" 3 and 4: a command exiting 3 fails with its exit code and an
 * ALGORITHM error on every try; a task over its timeout is killed and recorded as timed
 * out; a cancelled job's process is gone within 2 seconds. Plus a command that cannot start.
 */

describe('failures, timeouts and cancels', { timeout: 180_000 }, () => {
  let e2e: E2eServer;
  let worker: WorkerProcess;

  before(async () => {
    ensureBuilt();
    e2e = await startE2eServer({ leaseSeconds: 10, reaperSeconds: 1 });
    worker = startWorker(e2e.url, 'failures', join(e2e.dataDir, 'w'));
  });

  after(async () => {
    await worker?.stop();
    await e2e?.close();
  });

  it('a command exiting 3 fails each try with code 3 and the job with an ALGORITHM error', async () => {
    const id = await submitScript(e2e, 'echo trying; exit 3', { maxTries: 2 });
    const job = await jobEnded(e2e, id, worker);
    assert.equal(job.state, 'FAILED');
    assert.equal(job.error?.name, 'algorithm-unknown');
    const executions = await executionsOf(e2e, id);
    assert.equal(executions.length, 2);
    for (const execution of executions) {
      assert.equal(execution.state, 'FAILED');
      assert.equal(execution.exitCode, 3);
      assert.equal(execution.error?.name, 'algorithm-unknown');
      assert.equal(execution.error?.message, 'exited with code 3');
      assert.equal(execution.timedOut, false);
    }
    const errors = await e2e.api('GET', '/api/v1/errors');
    if (errors.status === 200) {
      const list: any[] = errors.body.items ?? errors.body;
      const known = list.find((e) => e.name === 'algorithm-unknown');
      if (known) assert.equal(known.category, 'ALGORITHM');
    }
  });

  it('a task over its timeout is killed and recorded as timed out', async () => {
    const pidFile = join(e2e.dataDir, 'timeout.pid');
    const started = Date.now();
    const id = await submitScript(e2e, `echo $$ > ${pidFile}; exec sleep 30`, {
      taskTimeout: 1,
      maxTries: 1,
    });
    const job = await jobEnded(e2e, id, worker);
    assert.ok(Date.now() - started < 15_000, 'killed long before the command would end');
    assert.equal(job.state, 'FAILED');
    const [execution] = await executionsOf(e2e, id);
    assert.equal(execution.state, 'FAILED');
    assert.equal(execution.timedOut, true);
    assert.equal(execution.error?.name, 'timeout');
    const pid = Number(readFileSync(pidFile, 'utf8'));
    await waitFor('the command to be gone', 5000, async () => !isAlive(pid));
  });

  it('a cancelled running job has its process gone within 2 seconds', async () => {
    const pidFile = join(e2e.dataDir, 'cancel.pid');
    const id = await submitScript(e2e, `echo $$ > ${pidFile}; exec sleep 30`);
    await waitFor('the task to run', 15_000, async () => {
      const [execution] = await executionsOf(e2e, id);
      try {
        return execution?.state === 'RUNNING' && readFileSync(pidFile, 'utf8').trim() !== '';
      } catch {
        return false;
      }
    });
    const pid = Number(readFileSync(pidFile, 'utf8'));
    assert.ok(isAlive(pid));
    const canceled = await e2e.api('POST', `/api/v1/jobs/${id}/cancel`);
    assert.equal(canceled.status, 200);
    await waitFor(
      'the command to be killed',
      2000,
      async () => !isAlive(pid),
      () => worker.output(),
    );
    const [execution] = await executionsOf(e2e, id);
    assert.equal(execution.state, 'CANCELED');
    assert.equal((await jobState(e2e, id)).state, 'CANCELED');
  });

  it('a command that cannot start fails with a SYSTEM task-launch error', async () => {
    const res = await e2e.api('POST', '/api/v1/jobs', {
      type: 'command-line',
      parameters: { executable: '/nonexistent/drover-test-command', arguments: ['x'] },
      maxTries: 1,
    });
    assert.equal(res.status, 201);
    const job = await jobEnded(e2e, res.body.id, worker);
    assert.equal(job.state, 'FAILED');
    const [execution] = await executionsOf(e2e, res.body.id);
    assert.equal(execution.error?.name, 'task-launch');
    assert.match(execution.error?.message ?? '', /ENOENT/);
  });

  it('the command-line type runs an executable with frame tokens in its arguments', async () => {
    const res = await e2e.api('POST', '/api/v1/jobs', {
      type: 'command-line',
      parameters: { executable: 'echo', arguments: ['frame', '{start}', 'to', '{end}'] },
      frames: '5-6',
      chunkSize: 2,
    });
    assert.equal(res.status, 201);
    const job = await jobEnded(e2e, res.body.id, worker);
    assert.equal(job.state, 'COMPLETED');
    const [execution] = await executionsOf(e2e, res.body.id);
    const log = (await e2e.api('GET', `/api/v1/executions/${execution.id}/logs`)).body;
    const stdout = log.lines.filter((l: any) => l.stream === 'stdout').map((l: any) => l.text);
    assert.deepEqual(stdout, ['frame 5 to 6']);
  });
});
