/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  ensureBuilt,
  executionsOf,
  jobState,
  startE2eServer,
  startWorker,
  submitScript,
  waitFor,
  type E2eServer,
  type WorkerProcess,
} from '../worker/support.js';

/*
 * Issue 3, "done when" 2: a worker killed with SIGKILL in the middle of a task. Its lease
 * runs out (4 s here), the reaper fails the execution as node-lost and requeues the task,
 * and the other worker runs it to completion.
 */

describe('a worker killed mid-task', { timeout: 120_000 }, () => {
  let e2e: E2eServer;
  let workers: WorkerProcess[] = [];
  let pidDir: string;

  before(async () => {
    ensureBuilt();
    e2e = await startE2eServer({ leaseSeconds: 4, reaperSeconds: 1 });
    pidDir = join(e2e.dataDir, 'pids');
    mkdirSync(pidDir);
    workers = [1, 2].map((i) => startWorker(e2e.url, `crash-${i}`, join(e2e.dataDir, `w${i}`)));
  });

  after(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    // The killed worker's command outlived it (it runs in its own process group).
    for (const name of readdirSync(pidDir)) {
      const pid = Number(readFileSync(join(pidDir, name), 'utf8'));
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await e2e?.close();
  });

  it('runs the task again on the other worker and completes the job', async () => {
    const id = await submitScript(
      e2e,
      `echo $$ > ${pidDir}/$DROVER_EXECUTION_ID; echo started; sleep 3; echo finished`,
    );
    const first = await waitFor('the task to run', 30_000, async () => {
      const [execution] = await executionsOf(e2e, id);
      return execution?.state === 'RUNNING' ? execution : undefined;
    });
    const node = (await e2e.api('GET', `/api/v1/nodes/${first.nodeId}`)).body;
    const victim = workers.find((w) => w.name === node.name)!;
    const survivor = workers.find((w) => w !== victim)!;
    victim.child.kill('SIGKILL');
    await victim.exited;

    const job = await waitFor(
      'the job to complete on the other worker',
      60_000,
      async () => {
        const j = await jobState(e2e, id);
        if (j.state === 'FAILED' || j.state === 'CANCELED') {
          throw new Error(`job ended ${j.state}: ${JSON.stringify(j.error)}`);
        }
        return j.state === 'COMPLETED' ? j : undefined;
      },
      () => survivor.output(),
    );
    assert.equal(job.tasks.completed, 1);

    const executions = await executionsOf(e2e, id);
    assert.equal(executions.length, 2);
    const [lost, rerun] = executions as [any, any];
    assert.equal(lost.nodeId, first.nodeId);
    assert.equal(lost.state, 'FAILED');
    assert.equal(lost.error?.name, 'node-lost');
    assert.equal(rerun.state, 'COMPLETED');
    assert.notEqual(rerun.nodeId, first.nodeId);
    const survivorNode = (await e2e.api('GET', `/api/v1/nodes/${rerun.nodeId}`)).body;
    assert.equal(survivorNode.name, survivor.name);
    const log = (await e2e.api('GET', `/api/v1/executions/${rerun.id}/logs`)).body;
    const stdout = log.lines.filter((l: any) => l.stream === 'stdout').map((l: any) => l.text);
    assert.deepEqual(stdout, ['started', 'finished']);
  });
});
