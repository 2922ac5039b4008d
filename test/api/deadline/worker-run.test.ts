/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildDeadlineApp } from '../../../src/api/deadline/index.js';
import {
  ensureBuilt,
  startE2eServer,
  startWorker,
  waitFor,
  type E2eServer,
  type WorkerProcess,
} from '../../worker/support.js';

/*
 * End to end: a job submitted through the Deadline face with the CommandLine plugin runs
 * on a real `drover worker` process, and its Statistics show the time its tasks took.
 */

describe('Deadline: a CommandLine job runs on a real worker', () => {
  let e2e: E2eServer;
  let deadline: FastifyInstance;
  let url: string;
  let worker: WorkerProcess;
  let workDir: string;
  before(async () => {
    ensureBuilt();
    e2e = await startE2eServer();
    deadline = await buildDeadlineApp({
      engine: e2e.server.engine,
      auth: false,
      archiveDir: join(e2e.dataDir, 'archives'),
    });
    await deadline.listen({ host: '127.0.0.1', port: 0 });
    const address = deadline.server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    workDir = mkdtempSync(join(tmpdir(), 'drover-deadline-work-'));
    worker = startWorker(e2e.url, 'deadline-worker', workDir);
  });
  after(async () => {
    await worker?.stop();
    await deadline?.close();
    await e2e?.close();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it(
    'runs every task with its frames and reports real render times',
    { timeout: 120_000 },
    async () => {
      const submitted = await fetch(`${url}/api/jobs`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json; charset=utf-8' },
        body: JSON.stringify({
          JobInfo: { Plugin: 'CommandLine', Name: 'real run', Frames: '1-4', ChunkSize: 2 },
          PluginInfo: {
            Executable: '/bin/sh',
            Arguments: '-c "sleep 1; echo rendering <STARTFRAME> to <ENDFRAME>"',
          },
          AuxFiles: [],
          IdOnly: true,
        }),
      });
      assert.equal(submitted.status, 200);
      const { _id: id } = (await submitted.json()) as { _id: string };
      const jobOf = async () =>
        ((await (await fetch(`${url}/api/jobs?JobID=${id}`)).json()) as any[])[0];
      await waitFor(
        'the job to complete',
        60_000,
        async () => (await jobOf()).Stat === 3,
        () => worker.output(),
      );
      const job = await jobOf();
      assert.equal(job.CompletedChunks, 2);
      assert.equal(job.Errs, 0);

      const stats = (await (
        await fetch(`${url}/api/jobs?JobID=${id}&Statistics=true`)
      ).json()) as any;
      assert.equal(stats.CompletedTaskCount, 2);
      // Two tasks of 1 s each: the time is the commands', not a made-up figure. The server
      // times from the start report, which the worker sends once the command is running, so
      // some of each command's time falls outside: on a loaded machine 0.23 s of 0.5 s did.
      assert.ok(stats.RendTimeSeconds >= 0.5, `render time ${stats.RendTimeSeconds}`);
      assert.ok(stats.RendTimeSeconds < 30, `render time ${stats.RendTimeSeconds}`);
      assert.ok(stats.AvgFrameRendSeconds >= 0.1, `frame time ${stats.AvgFrameRendSeconds}`);

      const tasks = (await (await fetch(`${url}/api/tasks?JobID=${id}`)).json()) as any;
      assert.deepEqual(
        tasks.Tasks.map((t: any) => [t.Frames, t.Stat, t.Slave]),
        [
          ['1-2', 5, 'deadline-worker'],
          ['3-4', 5, 'deadline-worker'],
        ],
      );
      // The frame tokens reached the command: the log of each execution shows its frames.
      const jobId = parseInt(id, 16);
      const executions = await e2e.api('GET', `/api/v1/executions?job=${jobId}`);
      const logs: string[] = [];
      for (const execution of executions.body.items) {
        const res = await e2e.api('GET', `/api/v1/executions/${execution.id}/logs`);
        logs.push(JSON.stringify(res.body));
      }
      assert.match(logs.join('\n'), /rendering 1 to 2/);
      assert.match(logs.join('\n'), /rendering 3 to 4/);
    },
  );
});
