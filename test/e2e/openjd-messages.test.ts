/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../helpers/databases.js';
import { ensureUiBuilt, openBrowser } from '../ui/support.js';
import {
  ensureBuilt,
  executionsOf,
  jobState,
  startE2eServer,
  startWorker,
  waitFor,
  type E2eServer,
  type WorkerProcess,
} from '../worker/support.js';

/*
 * The lines an OpenJD action prints to say how it is doing (openjd_progress, openjd_status,
 * openjd_fail), read by a real `drover worker` from a real command: progress becomes the
 * task's progress, status its status message, fail the failure's message.
 */

const SCRIPT = `frame={{Task.Param.Frame}}
if [ "$frame" = 1 ]; then
  echo "openjd_progress: 30"
  echo "openjd_status: waiting for go"
  until [ -e '{{Param.GoFile}}' ]; do sleep 0.05; done
  echo "openjd_status: finishing"
  exit 0
fi
echo "openjd_status: denoising"
echo "openjd_progress: 60.5"
echo "PROGRESS: 3"
echo "openjd_progress: 250"
echo "openjd_fail: scene missing" >&2
exit 3
`;

const TEMPLATE = {
  specificationVersion: 'jobtemplate-2023-09',
  name: 'Messages',
  parameterDefinitions: [{ name: 'GoFile', type: 'PATH' }],
  steps: [
    {
      name: 'Render',
      parameterSpace: { taskParameterDefinitions: [{ name: 'Frame', type: 'INT', range: '1-2' }] },
      script: {
        actions: { onRun: { command: 'bash', args: ['{{Task.File.Run}}'] } },
        embeddedFiles: [{ name: 'Run', type: 'TEXT', data: SCRIPT }],
      },
    },
  ],
};

for (const database of TEST_DATABASES) {
  describe(`OpenJD stdout messages on a worker (${database.name})`, { timeout: 120_000 }, () => {
    let e2e: E2eServer;
    let worker: WorkerProcess;

    before(async () => {
      ensureBuilt();
      ensureUiBuilt();
      e2e = await startE2eServer({}, database);
      worker = startWorker(e2e.url, 'openjd-messages', join(e2e.dataDir, 'w'));
    });

    after(async () => {
      await worker?.stop();
      await e2e?.close();
    });

    it('maps progress, status and fail onto the task and its execution', async () => {
      const goFile = join(e2e.dataDir, 'go');
      const res = await e2e.api('POST', '/api/v1/jobs', {
        template: TEMPLATE,
        parameters: { GoFile: goFile },
        maxTries: 1,
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const parentId = res.body.id as number;
      const [step] = (await e2e.api('GET', `/api/v1/jobs?parent=${parentId}`)).body.items as any[];
      const tasks = (await e2e.api('GET', `/api/v1/jobs/${step.id}/tasks`)).body.items as any[];
      const [first, second] = [1, 2].map((f) =>
        tasks.find((t) => t.parameters.Frame === String(f)),
      );

      // While frame 1 waits for the go file, its task shows what it said so far.
      const running = await waitFor(
        'frame 1 to report its progress and status',
        60_000,
        async () => {
          const task = (await e2e.api('GET', `/api/v1/tasks/${first.id}`)).body;
          return task.statusMessage === 'waiting for go' && task.progress === 30 ? task : undefined;
        },
        () => worker.output(),
      );
      assert.equal(running.state, 'RUNNING');
      // The web UI's task panel shows it: the running task is the one open.
      const browser = await openBrowser();
      try {
        await browser.page.goto(`${e2e.url}/#/jobs/${step.id}`);
        const status = browser.page.locator(`.task-panel[data-task="${first.id}"] .task-status`);
        await status.waitFor();
        assert.equal(await status.textContent(), 'waiting for go');
        assert.deepEqual(browser.problems, []);
      } finally {
        await browser.close();
      }
      writeFileSync(goFile, '');

      const parent = await waitFor(
        'the job to end',
        60_000,
        async () => {
          const j = await jobState(e2e, parentId);
          return ['COMPLETED', 'FAILED', 'CANCELED'].includes(j.state) ? j : undefined;
        },
        () => worker.output(),
      );
      assert.equal(parent.state, 'FAILED');

      const done = (await e2e.api('GET', `/api/v1/tasks/${first.id}`)).body;
      assert.equal(done.state, 'COMPLETED');
      assert.equal(done.statusMessage, 'finishing');

      const failedTask = (await e2e.api('GET', `/api/v1/tasks/${second.id}`)).body;
      assert.equal(failedTask.state, 'FAILED');
      assert.equal(failedTask.statusMessage, 'denoising');
      const failed = (await executionsOf(e2e, step.id)).find((e) => e.taskId === second.id);
      assert.equal(failed.state, 'FAILED');
      // Only openjd_progress counts for an OpenJD action: not PROGRESS: 3, not 250.
      assert.equal(failed.progress, 60.5);
      assert.equal(failed.statusMessage, 'denoising');
      assert.equal(failed.exitCode, 3);
      assert.equal(failed.error.message, 'scene missing (exited with code 3)');
      const log = (await e2e.api('GET', `/api/v1/executions/${failed.id}/logs`)).body;
      const worded = log.lines.map((l: any) => `${l.stream}: ${l.text}`);
      // The messages stay in the log, and a malformed one is pointed out there.
      assert.ok(worded.includes('stderr: openjd_fail: scene missing'), worded.join('\n'));
      assert.ok(
        worded.includes('worker: drover: openjd_progress must be a number from 0 to 100'),
        worded.join('\n'),
      );
    });
  });
}
