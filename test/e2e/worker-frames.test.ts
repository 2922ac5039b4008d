/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
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
 * Issue 3, "done when" 1: a real server and two real `drover worker` processes run a
 * 20-frame job in chunks of 2; every task completes, each task's log shows its frames,
 * and the files the command wrote download byte for byte.
 */

describe('two workers run a 20-frame job', { timeout: 120_000 }, () => {
  let e2e: E2eServer;
  let workers: WorkerProcess[] = [];

  before(async () => {
    ensureBuilt();
    e2e = await startE2eServer();
    workers = [1, 2].map((i) => startWorker(e2e.url, `frames-${i}`, join(e2e.dataDir, `w${i}`)));
  });

  after(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await e2e?.close();
  });

  it('completes all ten tasks with logs and outputs', async () => {
    const script =
      'echo frames $DROVER_START-$DROVER_END; echo PROGRESS: 50; ' +
      'echo $DROVER_START > $DROVER_OUTPUT_DIR/frame-$DROVER_START.txt';
    const id = await submitScript(e2e, script, { frames: '1-20', chunkSize: 2 });
    const job = await waitFor(
      'the job to complete',
      60_000,
      async () => {
        const j = await jobState(e2e, id);
        if (j.state === 'FAILED' || j.state === 'CANCELED') {
          throw new Error(`job ended ${j.state}: ${JSON.stringify(j.error)}`);
        }
        return j.state === 'COMPLETED' ? j : undefined;
      },
      () => workers.map((w) => w.output()).join('\n'),
    );
    assert.equal(job.tasks.total, 10);
    assert.equal(job.tasks.completed, 10);

    const executions = await executionsOf(e2e, id);
    const completed = executions.filter((e) => e.state === 'COMPLETED');
    assert.equal(completed.length, 10);
    // Both workers took part (the work is spread by long-poll; each has one slot).
    assert.equal(new Set(completed.map((e) => e.nodeId)).size, 2);

    const tasks = (await e2e.api('GET', `/api/v1/jobs/${id}/tasks?limit=100`)).body;
    const taskList: any[] = tasks.items ?? tasks;
    for (const execution of completed) {
      const task = taskList.find((t) => t.id === execution.taskId);
      assert.ok(task, `task ${execution.taskId}`);
      const log = (await e2e.api('GET', `/api/v1/executions/${execution.id}/logs`)).body;
      const stdout = log.lines.filter((l: any) => l.stream === 'stdout').map((l: any) => l.text);
      assert.deepEqual(stdout, [`frames ${task.frameStart}-${task.frameEnd}`, 'PROGRESS: 50']);
      assert.equal(execution.exitCode, 0);
    }

    const outputs = (await e2e.api('GET', `/api/v1/jobs/${id}/outputs`)).body.items as any[];
    assert.deepEqual(
      outputs.map((o) => o.name).sort(),
      [1, 3, 5, 7, 9, 11, 13, 15, 17, 19].map((n) => `frame-${n}.txt`).sort(),
    );
    for (const output of outputs) {
      const res = await fetch(`${e2e.url}/api/v1/outputs/${output.id}/content`);
      assert.equal(res.status, 200);
      const bytes = Buffer.from(await res.arrayBuffer());
      const frame = /frame-(\d+)\.txt/.exec(output.name)![1];
      assert.deepEqual(bytes, Buffer.from(`${frame}\n`));
      assert.equal(output.size, bytes.length);
      assert.equal(output.sha256, createHash('sha256').update(bytes).digest('hex'));
      assert.equal(res.headers.get('content-type')?.split(';')[0], 'text/plain');
      assert.match(res.headers.get('content-disposition') ?? '', /frame-\d+\.txt/);
    }
  });
});
