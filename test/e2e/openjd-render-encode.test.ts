/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../helpers/databases.js';
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
 * Issue 15, first slice: an OpenJD template of two steps (render a frame range from two
 * cameras, Frame * Camera; then encode each camera's frames) runs on real `drover worker`
 * processes. The template's embedded scripts stand in for Blender and ffmpeg. The encode
 * step starts only once every render task has completed, and every task ran with its own
 * parameter values.
 */

const TEMPLATE = readFileSync(
  new URL('../formats/openjd/fixtures/render-encode.yaml', import.meta.url),
  'utf8',
);

for (const database of TEST_DATABASES) {
  describe(
    `an OpenJD render → encode job on two workers (${database.name})`,
    { timeout: 180_000 },
    () => {
      let e2e: E2eServer;
      let workers: WorkerProcess[] = [];

      before(async () => {
        ensureBuilt();
        e2e = await startE2eServer({}, database);
        workers = [1, 2].map((i) =>
          startWorker(e2e.url, `openjd-${i}`, join(e2e.dataDir, `w${i}`)),
        );
      });

      after(async () => {
        await Promise.all(workers.map((w) => w.stop()));
        await e2e?.close();
      });

      it('renders every frame of every camera, then encodes each camera', async () => {
        const out = join(e2e.dataDir, 'out');
        mkdirSync(out);
        const res = await e2e.api('POST', '/api/v1/jobs', {
          template: TEMPLATE,
          parameters: { OutputDir: out, Frames: '1-3', Shot: 'sh030' },
        });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        const parentId = res.body.id as number;
        const parent = await waitFor(
          'the OpenJD job to end',
          120_000,
          async () => {
            const j = await jobState(e2e, parentId);
            return ['COMPLETED', 'FAILED', 'CANCELED'].includes(j.state) ? j : undefined;
          },
          () => workers.map((w) => w.output()).join('\n'),
        );
        assert.equal(parent.state, 'COMPLETED', JSON.stringify(parent.error));

        const steps = (await e2e.api('GET', `/api/v1/jobs?parent=${parentId}`)).body.items as any[];
        const render = steps.find((s) => s.childName === 'Render');
        const encode = steps.find((s) => s.childName === 'Encode');
        assert.equal(render.tasks.completed, 6);
        assert.equal(encode.tasks.completed, 2);

        // The encode step's tasks were handed out only after the render step completed.
        const renderEnded = Date.parse((await jobState(e2e, render.id)).endedAt);
        const encodeRuns = (await executionsOf(e2e, encode.id)).filter(
          (e) => e.state === 'COMPLETED',
        );
        assert.equal(encodeRuns.length, 2);
        for (const e of encodeRuns) assert.ok(Date.parse(e.createdAt) >= renderEnded);

        // Each render task ran its embedded script (written executable) with its own values.
        const tasks = (await e2e.api('GET', `/api/v1/jobs/${render.id}/tasks?limit=100`)).body
          .items as any[];
        for (const execution of (await executionsOf(e2e, render.id)).filter(
          (e) => e.state === 'COMPLETED',
        )) {
          const task = tasks.find((t) => t.id === execution.taskId);
          const { Frame, Camera } = task.parameters;
          const log = (await e2e.api('GET', `/api/v1/executions/${execution.id}/logs`)).body;
          const stdout = log.lines
            .filter((l: any) => l.stream === 'stdout')
            .map((l: any) => l.text);
          assert.deepEqual(stdout, [`mode 500 frame ${Frame} camera ${Camera}`]);
          const ran = log.lines.find(
            (l: any) => l.stream === 'worker' && /runs \[/.test(l.text),
          ).text;
          assert.match(ran, new RegExp(`"bash",".*/render\\.sh","${Frame}","${Camera}"`));
        }
        assert.deepEqual(tasks.map((t) => `${t.parameters.Frame}${t.parameters.Camera}`).sort(), [
          '1front',
          '1side',
          '2front',
          '2side',
          '3front',
          '3side',
        ]);
        const files = readdirSync(out).sort();
        assert.deepEqual(files, [
          'sh030_front.mp4',
          'sh030_front_0001.png',
          'sh030_front_0002.png',
          'sh030_front_0003.png',
          'sh030_side.mp4',
          'sh030_side_0001.png',
          'sh030_side_0002.png',
          'sh030_side_0003.png',
        ]);
        assert.equal(
          readFileSync(join(out, 'sh030_side_0002.png'), 'utf8'),
          'shot sh030 frame 2 camera side quality 0.5\n',
        );
        // Each movie holds its camera's three frames, in order, at the default fps.
        assert.equal(
          readFileSync(join(out, 'sh030_front.mp4'), 'utf8'),
          [
            'fps 24',
            ...[1, 2, 3].map((f) => `shot sh030 frame ${f} camera front quality 0.5`),
            '',
          ].join('\n'),
        );
        for (const execution of encodeRuns) {
          const log = (await e2e.api('GET', `/api/v1/executions/${execution.id}/logs`)).body;
          const stdout = log.lines
            .filter((l: any) => l.stream === 'stdout')
            .map((l: any) => l.text);
          // Not runnable: written read-only for the worker's user.
          assert.match(stdout[0], /^mode 400 camera (front|side)$/);
        }
      });

      it('tells a command canceled by NOTIFY_THEN_TERMINATE when its grace ends', async () => {
        const template = {
          specificationVersion: 'jobtemplate-2023-09',
          name: 'Slow',
          steps: [
            {
              name: 'Sleep',
              script: {
                actions: {
                  onRun: {
                    command: 'bash',
                    args: ['{{Task.File.Run}}'],
                    timeout: 1,
                    cancelation: { mode: 'NOTIFY_THEN_TERMINATE', notifyPeriodInSeconds: 60 },
                  },
                },
                embeddedFiles: [
                  {
                    name: 'Run',
                    type: 'TEXT',
                    data: "trap 'cat {{Session.WorkingDirectory}}/cancel_info.json; echo; exit 3' TERM\nsleep 60 &\nwait\n",
                  },
                ],
              },
            },
          ],
        };
        const res = await e2e.api('POST', '/api/v1/jobs', { template, maxTries: 1 });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        const parentId = res.body.id as number;
        await waitFor(
          'the slow job to fail on its timeout',
          60_000,
          async () => (await jobState(e2e, parentId)).state === 'FAILED',
          () => workers.map((w) => w.output()).join('\n'),
        );
        const steps = (await e2e.api('GET', `/api/v1/jobs?parent=${parentId}`)).body.items as any[];
        const [execution] = await executionsOf(e2e, steps[0].id);
        assert.equal(execution.timedOut, true);
        const log = (await e2e.api('GET', `/api/v1/executions/${execution.id}/logs`)).body;
        const stdout = log.lines.filter((l: any) => l.stream === 'stdout').map((l: any) => l.text);
        // Written before the first signal, the grace the worker gives (its own, shorter).
        assert.match(stdout[0], /^\{"NotifyEnd":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"\}$/);
      });
    },
  );
}
