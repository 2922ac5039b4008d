/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import {
  api,
  buildOnce,
  drain,
  drover,
  expectRun,
  finishTask,
  startTask,
  submitJob,
} from './support.js';

const database = TEST_DATABASES[0]!;

describe('drover show', () => {
  let t: TestServer;
  before(async () => {
    await buildOnce();
    t = await startTestServer(database);
  });
  after(async () => {
    await t?.close();
  });

  it('shows why a queued job waits', async () => {
    const job = await submitJob(t, {
      name: 'waiting',
      parameters: { executable: 'echo', arguments: ['hi'] },
    });
    expectRun(
      await drover(t, ['show', String(job.id)]),
      0,
      [
        `Job:         ${job.id}  waiting`,
        'State:       QUEUED',
        'Type:        command-line 1',
        'User:        local',
        'Priority:    50',
        'Tasks:       0/1 (0%) completed, 0 running, 1 queued, 0 failed',
        'Parameters:  {"executable":"echo","arguments":["hi"]}',
        'Max tries:   3',
        'Submitted:   2026-01-01 00:00:00',
        '',
        'Waiting because',
        '  - no enabled node is online',
        '',
        'Tasks (1)',
        'TASK  FRAMES  STATE   TRIES  PROGRESS  NODE  STARTED  DURATION',
        '   0  -       QUEUED      0        0%  -     -        -',
        '',
      ].join('\n'),
    );
    await api(t, 'POST', `/jobs/${job.id}/cancel`);
  });

  it('shows details, tasks and executions', async () => {
    const job = await submitJob(t, { name: 'frames', frames: '1-4', chunkSize: 2, priority: 70 });
    const node = await api(t, 'POST', '/nodes', { name: 'show-node' });
    const order = await startTask(t, node.id);
    t.clock.advance(30_000);
    await finishTask(t, node.id, order.execution.id, 0);
    const second = await startTask(t, node.id);
    await api(t, 'POST', `/executions/${second.execution.id}/finish`, {
      nodeId: node.id,
      success: false,
      exitCode: 3,
      error: { category: 'ALGORITHM', message: 'exit code 3' },
    });
    const run = await drover(t, ['show', String(job.id)]);
    expectRun(run, 0);
    const text = run.stdout;
    assert.match(text, new RegExp(`^Job: {9}${job.id} {2}frames\\n`));
    assert.match(text, /^Frames: {6}1-4 \(chunks of 2\)$/m);
    assert.match(text, /^Priority: {4}70$/m);
    assert.match(text, /^Tasks: {7}1\/2 \(50%\) completed, 0 running, 1 queued, 0 failed$/m);
    assert.match(text, /^Started: {5}2026-01-01 00:00:00$/m);
    assert.ok(
      !text.includes('Waiting because'),
      'a job with a queued retry still lists reasons only when waiting',
    );
    assert.ok(
      text.includes(
        [
          'Tasks (2)',
          'TASK  FRAMES  STATE      TRIES  PROGRESS  NODE       STARTED              DURATION',
        ].join('\n'),
      ),
      text,
    );
    assert.match(text, /^ {3}0 {2}1-2 {5}COMPLETED .* show-node {2}2026-01-01 00:00:00 {2}30s$/m);
    assert.match(text, /^ {3}1 {2}3-4 {5}QUEUED /m);
    assert.ok(
      text.includes('\nExecutions (2)\nEXECUTION  TASK  EXE#  NODE       STATE      STARTED'),
      text,
    );
    assert.match(
      text,
      new RegExp(
        `^ +${order.execution.id} +0 +1 +show-node +COMPLETED +2026-01-01 00:00:00 +2026-01-01 00:00:30 +30s +0$`,
        'm',
      ),
    );
    assert.match(
      text,
      new RegExp(
        `^ +${second.execution.id} +1 +2 +show-node +FAILED +.* +3 +\\S+: exit code 3$`,
        'm',
      ),
    );

    const json = await drover(t, ['show', String(job.id), '--json']);
    expectRun(json, 0);
    const body = JSON.parse(json.stdout);
    assert.equal(body.job.id, job.id);
    assert.equal(body.tasks.length, 2);
    assert.equal(body.tasksTotal, 2);
    assert.deepEqual(
      body.executions.map((e: any) => [e.id, e.state, e.exitCode]),
      [
        [order.execution.id, 'COMPLETED', 0],
        [second.execution.id, 'FAILED', 3],
      ],
    );
    assert.ok(Array.isArray(body.outputs));
    assert.ok(Array.isArray(body.waitingReasons));
  });

  it('shows the task timeout and what happens past it', async () => {
    const timed = await submitJob(t, {
      name: 'timed',
      taskTimeout: 600,
      taskTimeoutAction: 'COMPLETE',
      initialState: 'SUSPENDED',
    });
    const run = await drover(t, ['show', String(timed.id)]);
    expectRun(run, 0);
    assert.ok(
      run.stdout.includes(
        [
          'Max tries:        3',
          'Task timeout:     10m 00s',
          'On task timeout:  COMPLETE (kill it, complete the task)',
          'Submitted:',
        ].join('\n'),
      ),
      run.stdout,
    );

    // A chosen action shows before any timeout is set; the default one without a timeout not.
    const notify = await submitJob(t, { taskTimeoutAction: 'NOTIFY', initialState: 'SUSPENDED' });
    const notifyRun = await drover(t, ['show', String(notify.id)]);
    expectRun(notifyRun, 0);
    assert.match(notifyRun.stdout, /^Task timeout: {5}none$/m);
    assert.match(notifyRun.stdout, /^On task timeout: {2}NOTIFY \(flag it, let it run\)$/m);
    const plain = await submitJob(t, { initialState: 'SUSPENDED' });
    const plainRun = await drover(t, ['show', String(plain.id)]);
    expectRun(plainRun, 0);
    assert.doesNotMatch(plainRun.stdout, /timeout/i);

    const json = JSON.parse((await drover(t, ['show', String(timed.id), '--json'])).stdout);
    assert.equal(json.job.taskTimeoutAction, 'COMPLETE');
  });

  it('lists the first 100 tasks and counts the rest', async () => {
    const job = await submitJob(t, { name: 'many', frames: '1-150', initialState: 'SUSPENDED' });
    const run = await drover(t, ['show', String(job.id)]);
    expectRun(run, 0);
    assert.match(run.stdout, /\nTasks \(150\)\n/);
    assert.match(run.stdout, /^ {2}99 {2}100-100 {2}SUSPENDED/m);
    assert.ok(!/^ +100 {2}101-101 /m.test(run.stdout));
    assert.ok(run.stdout.endsWith('… and 50 more tasks\n'), run.stdout.slice(-200));
  });

  it('lists and downloads outputs', async () => {
    await drain(t);
    const job = await submitJob(t, { name: 'with outputs' });
    const node = await api(t, 'POST', '/nodes', { name: 'output-node' });
    const order = await startTask(t, node.id);
    const upload = await t.request(
      'POST',
      `/api/v1/executions/${order.execution.id}/outputs?nodeId=${node.id}&name=frames/f1.txt&type=text/plain`,
      'frame one\n',
      { 'content-type': 'application/octet-stream' },
    );
    assert.equal(upload.status, 201, JSON.stringify(upload.body));
    await finishTask(t, node.id, order.execution.id);

    const show = await drover(t, ['show', String(job.id)]);
    expectRun(show, 0);
    assert.ok(
      show.stdout.endsWith(
        [
          '',
          'Outputs (1)',
          'OUTPUT  NAME           TYPE        SIZE',
          `${String(upload.body.id).padStart(6)}  frames/f1.txt  text/plain  10 B`,
          '',
        ].join('\n'),
      ),
      show.stdout,
    );
    const dir = mkdtempSync(join(tmpdir(), 'drover-cli-outputs-'));
    try {
      expectRun(
        await drover(t, ['outputs', String(job.id), '--download', dir]),
        0,
        `${join(dir, 'frames/f1.txt')}  10 B\n`,
      );
      assert.equal(readFileSync(join(dir, 'frames', 'f1.txt'), 'utf8'), 'frame one\n');
      expectRun(
        await drover(t, ['outputs', String(job.id), 'nope.txt']),
        1,
        '',
        `drover: job ${job.id} has no output "nope.txt"\n`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
