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
  startE2eServer,
  startWorker,
  submitScript,
  waitFor,
  type E2eServer,
  type WorkerProcess,
} from '../worker/support.js';

/*
 * The job's taskTimeoutAction (Deadline OnTaskTimeout) with a real server and a real
 * `drover worker`: COMPLETE kills the command at its timeout and completes the task;
 * NOTIFY lets a 3 s command with a 1 s timeout run to its end, flagged as timed out.
 */

async function logText(e2e: E2eServer, executionId: number): Promise<string[]> {
  const log = (await e2e.api('GET', `/api/v1/executions/${executionId}/logs`)).body;
  return (log.lines as any[]).map((l) => `${l.stream}: ${l.text}`);
}

describe('task timeout actions on a real worker', { timeout: 180_000 }, () => {
  let e2e: E2eServer;
  let worker: WorkerProcess;

  before(async () => {
    ensureBuilt();
    e2e = await startE2eServer({ leaseSeconds: 10, reaperSeconds: 0.5 });
    worker = startWorker(e2e.url, 'timeout-actions', join(e2e.dataDir, 'w'));
  });

  after(async () => {
    await worker?.stop();
    await e2e?.close();
  });

  it('COMPLETE: the command is killed at its timeout and the task completes, timed out', async () => {
    const pidFile = join(e2e.dataDir, 'complete.pid');
    const started = Date.now();
    const id = await submitScript(e2e, `echo $$ > ${pidFile}; exec sleep 30`, {
      taskTimeout: 1,
      taskTimeoutAction: 'COMPLETE',
      maxTries: 1,
    });
    const job = await jobEnded(e2e, id, worker);
    assert.ok(Date.now() - started < 15_000, 'ended long before the command would');
    assert.equal(job.state, 'COMPLETED');
    assert.equal(job.taskTimeoutAction, 'COMPLETE');
    assert.equal(job.tasks.completed, 1);
    const executions = await executionsOf(e2e, id);
    assert.equal(executions.length, 1, 'no retry');
    const [execution] = executions;
    assert.equal(execution.state, 'COMPLETED');
    assert.equal(execution.timedOut, true);
    assert.equal(execution.error, null);
    const [task] = (await e2e.api('GET', `/api/v1/jobs/${id}/tasks`)).body.items;
    assert.equal(task.state, 'COMPLETED');
    const pid = Number(readFileSync(pidFile, 'utf8'));
    await waitFor('the command to be gone', 5000, async () => !isAlive(pid));
  });

  it('NOTIFY: a 3 s command with a 1 s timeout runs to its end and is marked timed out', async () => {
    const id = await submitScript(e2e, 'echo begin; sleep 3; echo finished', {
      taskTimeout: 1,
      taskTimeoutAction: 'NOTIFY',
      maxTries: 1,
    });
    // Past its timeout the execution is flagged by the server and still running.
    const seen = await waitFor(
      'the execution to be flagged while it runs, or to end',
      15_000,
      async () => {
        const [execution] = await executionsOf(e2e, id);
        if (!execution) return undefined;
        if (execution.state === 'RUNNING' && execution.timedOut) return 'flagged-running';
        return execution.state === 'COMPLETED' || execution.state === 'FAILED'
          ? 'ended'
          : undefined;
      },
      () => worker.output(),
    );
    assert.equal(seen, 'flagged-running', 'flagged timed out while it was still running');

    const job = await jobEnded(e2e, id, worker);
    assert.equal(job.state, 'COMPLETED');
    const [execution] = await executionsOf(e2e, id);
    assert.equal(execution.state, 'COMPLETED');
    assert.equal(execution.timedOut, true);
    assert.equal(execution.exitCode, 0);
    assert.equal(execution.error, null);
    // It ran to its end, not killed at 1 s: its last line is there (no timing assertion: the
    // server's start time is when the start report arrived, late on a loaded machine).
    const lines = await logText(e2e, execution.id);
    assert.ok(lines.includes('stdout: finished'), lines.join('\n'));
    assert.ok(
      lines.some((l) => /past its timeout of 1 s; it runs on/.test(l)),
      lines.join('\n'),
    );
  });
});
