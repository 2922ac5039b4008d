/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import {
  api,
  buildOnce,
  drain,
  drover,
  expectRun,
  finishTask,
  ROOT,
  startDrover,
  startTask,
  submitJob,
} from './support.js';

const database = TEST_DATABASES[0]!;

describe('drover wait and drover logs', () => {
  let t: TestServer;
  let nodeId: number;
  before(async () => {
    await buildOnce();
    t = await startTestServer(database);
    nodeId = (await api(t, 'POST', '/nodes', { name: 'log-node' })).id;
  });
  beforeEach(async () => {
    await drain(t);
  });
  after(async () => {
    await t?.close();
  });

  const log = (executionId: number, lines: Array<[string, string]>) =>
    api(t, 'POST', `/executions/${executionId}/logs`, {
      nodeId,
      lines: lines.map(([stream, text]) => ({ stream, text })),
    });

  it('wait exits 0 when the job completes', async () => {
    const job = await submitJob(t, { name: 'to complete' });
    const wait = startDrover(t, ['wait', String(job.id), '--interval', '0.1']);
    await wait.output(new RegExp(`^job ${job.id}: QUEUED, 0/1 tasks done\\n`));
    const order = await startTask(t, nodeId);
    await finishTask(t, nodeId, order.execution.id, 0);
    const run = await wait.done;
    expectRun(run, 0);
    const lines = run.stdout.trimEnd().split('\n');
    assert.equal(lines[0], `job ${job.id}: QUEUED, 0/1 tasks done`);
    assert.equal(lines.at(-1), `job ${job.id} COMPLETED: 1/1 tasks done`);
    for (const line of lines.slice(1, -1)) {
      assert.match(line, new RegExp(`^job ${job.id}: RUNNING, 0/1 tasks done$`));
    }
    // Already ended: just the verdict.
    expectRun(
      await drover(t, ['wait', String(job.id)]),
      0,
      `job ${job.id} COMPLETED: 1/1 tasks done\n`,
    );
    const json = await drover(t, ['wait', String(job.id), '--json']);
    expectRun(json, 0);
    assert.equal(JSON.parse(json.stdout).state, 'COMPLETED');
  });

  it('wait exits 1 for a canceled or failed job', async () => {
    const job = await submitJob(t);
    const wait = startDrover(t, ['wait', String(job.id), '--interval', '0.1']);
    await wait.output(/QUEUED/);
    await api(t, 'POST', `/jobs/${job.id}/cancel`);
    expectRun(
      await wait.done,
      1,
      `job ${job.id}: QUEUED, 0/1 tasks done\njob ${job.id} CANCELED: 0/1 tasks done\n`,
    );

    const failing = await submitJob(t, { maxTries: 1 });
    const order = await startTask(t, nodeId);
    await api(t, 'POST', `/executions/${order.execution.id}/finish`, {
      nodeId,
      success: false,
      exitCode: 3,
      error: { category: 'ALGORITHM', message: 'exit code 3' },
    });
    const failed = await api(t, 'GET', `/jobs/${failing.id}`);
    assert.equal(failed.state, 'FAILED');
    expectRun(
      await drover(t, ['wait', String(failing.id)]),
      1,
      `job ${failing.id} FAILED: 0/1 tasks done, 1 failed (${failed.error.name}: ${failed.error.message})\n`,
    );
  });

  it('wait exits 2 when it times out', async () => {
    const job = await submitJob(t);
    expectRun(
      await drover(t, ['wait', String(job.id), '--timeout', '0.3', '--interval', '0.1']),
      2,
      `job ${job.id}: QUEUED, 0/1 tasks done\n`,
      `drover: gave up waiting for job ${job.id} after 0.3s; it is QUEUED\n`,
    );
  });

  it("logs prints each task's latest execution, stderr to stderr", async () => {
    const job = await submitJob(t, { frames: '1-4', chunkSize: 2 });
    const first = await startTask(t, nodeId);
    await log(first.execution.id, [
      ['stdout', 'frame 1'],
      ['stderr', 'warning: slow'],
      ['stdout', 'frame 2'],
    ]);
    await finishTask(t, nodeId, first.execution.id);
    const second = await startTask(t, nodeId);
    await log(second.execution.id, [
      ['worker', 'started on log-node'],
      ['stdout', 'frame 3'],
    ]);

    expectRun(
      await drover(t, ['logs', String(job.id)]),
      0,
      [
        `==> task 0 (frames 1-2) · execution ${first.execution.id} on log-node <==`,
        'frame 1',
        'frame 2',
        `==> task 1 (frames 3-4) · execution ${second.execution.id} on log-node <==`,
        'frame 3',
        '',
      ].join('\n'),
      'warning: slow\n[worker] started on log-node\n',
    );
    expectRun(
      await drover(t, ['logs', String(job.id), '--task', '1', '--no-headers']),
      0,
      'frame 3\n',
      '[worker] started on log-node\n',
    );
    expectRun(
      await drover(t, ['logs', String(job.id), '--task', '7']),
      1,
      '',
      `drover: job ${job.id} has no task 7; its tasks are 0-1\n`,
    );
    const json = await drover(t, ['logs', String(job.id), '--json', '--task', '0']);
    expectRun(json, 0);
    assert.deepEqual(
      json.stdout
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l))
        .map((l: any) => [l.task, l.execution, l.line, l.stream, l.text]),
      [
        [0, first.execution.id, 0, 'stdout', 'frame 1'],
        [0, first.execution.id, 1, 'stderr', 'warning: slow'],
        [0, first.execution.id, 2, 'stdout', 'frame 2'],
      ],
    );
    await finishTask(t, nodeId, second.execution.id);
  });

  it('logs ends quietly with status 0 when its reader closes the pipe early', async () => {
    const job = await submitJob(t, { frames: '1' });
    const task = await startTask(t, nodeId);
    // Far more than a pipe holds, so drover is still writing when the reader has gone.
    for (let batch = 0; batch < 4; batch++) {
      await log(
        task.execution.id,
        Array.from({ length: 1000 }, (_, i): [string, string] => [
          'stdout',
          `line ${batch * 1000 + i} ${'x'.repeat(60)}`,
        ]),
      );
    }
    await finishTask(t, nodeId, task.execution.id);
    const child = spawn(
      process.execPath,
      [join(ROOT, 'bin', 'drover.js'), 'logs', String(job.id)],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', DROVER_SERVER: t.url },
      },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdout.once('data', () => child.stdout.destroy());
    const [code] = (await once(child, 'close')) as [number | null];
    assert.equal(stderr, '');
    assert.equal(code, 0);
  });

  it('logs says when no task has started', async () => {
    const job = await submitJob(t);
    expectRun(
      await drover(t, ['logs', String(job.id)]),
      0,
      '',
      `job ${job.id} has no logs yet: none of its tasks has started\n`,
    );
  });

  it('logs --follow prints lines as they come until the job ends', async () => {
    const job = await submitJob(t, { frames: '1-2', chunkSize: 1 });
    const first = await startTask(t, nodeId);
    const follow = startDrover(t, ['logs', String(job.id), '--follow']);
    await log(first.execution.id, [['stdout', 'one']]);
    await follow.output(/^one$/m);
    await log(first.execution.id, [['stdout', 'two']]);
    await follow.output(/^two$/m);
    await finishTask(t, nodeId, first.execution.id);
    const second = await startTask(t, nodeId);
    await log(second.execution.id, [['stdout', 'three']]);
    await follow.output(/^three$/m);
    await finishTask(t, nodeId, second.execution.id);
    expectRun(
      await follow.done,
      0,
      [
        `==> task 0 (frames 1-1) · execution ${first.execution.id} on log-node <==`,
        'one',
        'two',
        `==> task 1 (frames 2-2) · execution ${second.execution.id} on log-node <==`,
        'three',
        '',
      ].join('\n'),
    );
  });
});
