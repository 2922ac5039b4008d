/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  ensureBuilt,
  executionsOf,
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
 * Issue 3: the worker survives "its own restart (the server's lease rules decide)". Worker
 * A, named X, is killed with SIGKILL mid-task; a new worker process with the same name (so
 * the same node) and work directory starts. It kills the command its previous life left
 * behind and reports the execution that life held as node-lost at once, well before the
 * 30 s lease would run out; the task runs again on the new process and the job completes.
 */

const LEASE_SECONDS = 30;

describe('a worker that restarts under the same name', { timeout: 120_000 }, () => {
  let e2e: E2eServer;
  let scratch: string;
  let workDir: string;
  const workers: WorkerProcess[] = [];

  before(async () => {
    ensureBuilt();
    e2e = await startE2eServer({ leaseSeconds: LEASE_SECONDS, reaperSeconds: 1 });
    scratch = join(e2e.dataDir, 'scratch');
    mkdirSync(scratch);
    workDir = join(e2e.dataDir, 'work');
  });

  after(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    // The first command, should the new worker not have killed it.
    const pidFile = join(scratch, 'pid');
    if (existsSync(pidFile)) {
      try {
        process.kill(-Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
      } catch {
        // gone, as it should be
      }
    }
    await e2e?.close();
  });

  it('fails the old execution as node-lost and runs the task again', async () => {
    const marker = join(scratch, 'marker');
    const pidFile = join(scratch, 'pid');
    // The first try sleeps; the second finds the marker and ends at once.
    const id = await submitScript(
      e2e,
      `if [ ! -e ${marker} ]; then touch ${marker}; echo $$ > ${pidFile}; echo first; sleep 30; fi; echo second`,
      { maxTries: 3 },
    );

    const a = startWorker(e2e.url, 'X', workDir);
    workers.push(a);
    const first = await waitFor(
      'the first try to run',
      30_000,
      async () => {
        const [execution] = await executionsOf(e2e, id);
        return execution?.state === 'RUNNING' && existsSync(pidFile) ? execution : undefined;
      },
      () => a.output(),
    );
    const firstPid = await waitFor('the pid file', 5000, async () => {
      const pid = Number(readFileSync(pidFile, 'utf8'));
      return Number.isInteger(pid) && pid > 1 ? pid : undefined;
    });

    a.child.kill('SIGKILL');
    await a.exited;
    // The command runs in a process group of its own: it outlived the worker.
    assert.ok(isAlive(firstPid), 'the command outlives a worker killed with SIGKILL');
    const held = await executionsOf(e2e, id);
    assert.equal(held.length, 1);
    assert.equal(held[0].state, 'RUNNING', 'the lease still holds the old execution');

    const b = startWorker(e2e.url, 'X', workDir);
    workers.push(b);
    const restartedAt = Date.now();
    const explain = (): string =>
      `--- worker A ---\n${a.output()}\n--- worker B ---\n${b.output()}`;

    const lost = await waitFor(
      'the old execution to be reported lost',
      15_000,
      async () => {
        const [execution] = await executionsOf(e2e, id);
        return execution?.state === 'FAILED' ? execution : undefined;
      },
      explain,
    );
    // Reported by the new worker, not reaped at the end of the lease.
    assert.ok(
      Date.now() - restartedAt < (LEASE_SECONDS - 5) * 1000,
      'the old execution ended before its lease could run out',
    );
    assert.equal(lost.id, first.id);
    assert.equal(lost.error?.name, 'node-lost', JSON.stringify(lost.error));
    assert.equal(lost.nodeId, first.nodeId);

    const job = await waitFor(
      'the job to complete',
      30_000,
      async () => {
        const j = await jobState(e2e, id);
        if (j.state === 'FAILED' || j.state === 'CANCELED') {
          throw new Error(`job ended ${j.state}: ${JSON.stringify(j.error)}\n${explain()}`);
        }
        return j.state === 'COMPLETED' ? j : undefined;
      },
      explain,
    );
    assert.equal(job.tasks.completed, 1);

    const executions = await executionsOf(e2e, id);
    assert.equal(executions.length, 2, JSON.stringify(executions));
    const [, rerun] = executions as [any, any];
    assert.equal(rerun.state, 'COMPLETED');
    // Same name, same node; and it was the new process that ran it.
    assert.equal(rerun.nodeId, first.nodeId);
    assert.match(b.output(), new RegExp(`execution ${rerun.id}: completed`));
    assert.doesNotMatch(a.output(), new RegExp(`execution ${rerun.id}:`));
    assert.match(b.output(), new RegExp(`execution ${first.id} was held by this node`));

    // The new worker killed the command its previous life left behind.
    await waitFor('the old command to be gone', 5000, async () => !isAlive(firstPid), explain);

    const log = (await e2e.api('GET', `/api/v1/executions/${rerun.id}/logs`)).body;
    const stdout = log.lines.filter((l: any) => l.stream === 'stdout').map((l: any) => l.text);
    assert.deepEqual(stdout, ['second']);
  });
});
