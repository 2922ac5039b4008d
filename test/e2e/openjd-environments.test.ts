/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
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
 * OpenJD environments on a real `drover worker` (one slot): the job's environment and the
 * step's are entered once, in that order, before the step's first task; the tasks run one
 * after another in the same session, seeing the variables the environments set (by
 * `variables` and by an `openjd_env` line of an onEnter); the environments are exited in
 * reverse once the worker has no more tasks of the step. An onEnter that fails fails the
 * task with its message, and the environments entered before it are exited.
 */

/** An action that appends a line to the job's log file ({{Param.Log}}). */
const append = (line: string, extra = '') => ({
  command: 'bash',
  args: ['-c', `echo "${line}" >> "$0"${extra}`, '{{Param.Log}}'],
});

const jobEnvironments = [
  {
    name: 'Farm',
    variables: { FARM_VAR: 'from-variables' },
    script: {
      actions: {
        onEnter: append('enter job $FARM_VAR', '; echo "openjd_env: LICENSE=from-openjd-env"'),
        onExit: append('exit job $FARM_VAR'),
      },
    },
  },
];

function template(stepEnvironment: Record<string, unknown>, frames: string) {
  return {
    specificationVersion: 'jobtemplate-2023-09',
    name: 'Sessions',
    parameterDefinitions: [{ name: 'Log', type: 'PATH' }],
    jobEnvironments,
    steps: [
      {
        name: 'Render',
        stepEnvironments: [stepEnvironment],
        parameterSpace: {
          taskParameterDefinitions: [{ name: 'Frame', type: 'INT', range: frames }],
        },
        script: {
          actions: {
            onRun: append('task {{Task.Param.Frame}} $FARM_VAR $LICENSE $STEP_VAR'),
          },
        },
      },
    ],
  };
}

const STEP_ENV = {
  name: 'Blender',
  variables: { STEP_VAR: 'step' },
  script: {
    // onEnter runs an embedded file, written into the session directory before it runs.
    actions: {
      onEnter: { command: '{{Env.File.Enter}}' },
      onExit: append('exit step $STEP_VAR'),
    },
    embeddedFiles: [
      {
        name: 'Enter',
        type: 'TEXT',
        runnable: true,
        data: '#!/bin/bash\necho "enter step $LICENSE in {{Session.WorkingDirectory}}" >> "{{Param.Log}}"\n',
      },
    ],
  },
};

const BROKEN_ENV = {
  name: 'Broken',
  script: {
    actions: {
      onEnter: {
        command: 'bash',
        args: ['-c', 'echo "openjd_fail: license server down"; exit 4'],
      },
      onExit: append('exit broken'),
    },
  },
};

for (const database of TEST_DATABASES) {
  describe(
    `OpenJD environments and sessions on a worker (${database.name})`,
    { timeout: 180_000 },
    () => {
      let e2e: E2eServer;
      let worker: WorkerProcess;

      before(async () => {
        ensureBuilt();
        e2e = await startE2eServer({}, database);
        worker = startWorker(e2e.url, 'openjd-sessions', join(e2e.dataDir, 'w'));
      });

      after(async () => {
        await worker?.stop();
        await e2e?.close();
      });

      async function submit(stepEnvironment: Record<string, unknown>, frames: string, log: string) {
        const res = await e2e.api('POST', '/api/v1/jobs', {
          template: template(stepEnvironment, frames),
          parameters: { Log: log },
          maxTries: 1,
        });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        return res.body.id as number;
      }

      async function ended(parentId: number) {
        return waitFor(
          `job ${parentId} to end`,
          90_000,
          async () => {
            const j = await jobState(e2e, parentId);
            return ['COMPLETED', 'FAILED', 'CANCELED'].includes(j.state) ? j : undefined;
          },
          () => worker.output(),
        );
      }

      const lines = (log: string) =>
        existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];

      it('enters once, runs every task in the session, exits in reverse', async () => {
        const log = join(e2e.dataDir, 'good.log');
        const parentId = await submit(STEP_ENV, '1-4', log);
        assert.equal((await ended(parentId)).state, 'COMPLETED');
        // The session ends when the worker's next claim comes back empty.
        await waitFor(
          'the environments to be exited',
          60_000,
          async () => (lines(log).includes('exit job from-variables') ? true : undefined),
          () => `${lines(log).join('\n')}\n${worker.output()}`,
        );
        const tasks = [1, 2, 3, 4].map((f) => `task ${f} from-variables from-openjd-env step`);
        const [enterJob, enterStep, ...rest] = lines(log);
        assert.equal(enterJob, 'enter job from-variables');
        // Entered by the embedded file, in the session's own directory.
        assert.match(enterStep!, /^enter step from-openjd-env in .*\/w\/session-\d+-\d+$/);
        assert.deepEqual(rest, [...tasks, 'exit step step', 'exit job from-variables']);
        // The session directory goes with the session, once its onExit actions have run.
        const dir = enterStep!.replace(/^.* in /, '');
        await waitFor('the session directory to be removed', 30_000, async () =>
          existsSync(dir) ? undefined : true,
        );
      });

      it('fails the task when an onEnter fails, and exits what was entered', async () => {
        const log = join(e2e.dataDir, 'broken.log');
        const parentId = await submit(BROKEN_ENV, '1', log);
        assert.equal((await ended(parentId)).state, 'FAILED');
        const [step] = (await e2e.api('GET', `/api/v1/jobs?parent=${parentId}`)).body
          .items as any[];
        const [execution] = await executionsOf(e2e, step.id);
        assert.equal(execution.state, 'FAILED');
        assert.equal(
          execution.error.message,
          'the onEnter of environment stepEnvironments[0] "Broken" failed: license server down (exited with code 4)',
        );
        await waitFor(
          'the job environment to be exited',
          60_000,
          async () => (lines(log).includes('exit job from-variables') ? true : undefined),
          () => `${lines(log).join('\n')}\n${worker.output()}`,
        );
        // The failed environment is not exited, and no task ran.
        assert.deepEqual(lines(log), ['enter job from-variables', 'exit job from-variables']);
        const logLines = (await e2e.api('GET', `/api/v1/executions/${execution.id}/logs`)).body
          .lines;
        const worded = logLines.map((l: any) => `${l.stream}: ${l.text}`);
        assert.ok(worded.includes('stdout: openjd_fail: license server down'), worded.join('\n'));
      });
    },
  );
}
