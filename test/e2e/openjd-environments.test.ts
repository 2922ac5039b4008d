/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
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
 * reverse once the worker has no more tasks of the job; a task of the job's next step exits
 * the step's environments and enters its own, the job's staying. An onEnter that fails fails the
 * task with its message, and the environments entered before it are exited. The session's
 * logs: onEnter output in the first task's log, onExit output appended to the last one's,
 * with the secrets of openjd_redacted_env blanked out of all of them; the server's record
 * of the session (its actions in order, its own log of the environments' output and a line
 * per task). The worker runs with
 * path mapping rules (--path-mapping-rules), which map PATH parameters.
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

/** The worker's path mapping rules: the submitters' /farm/projects is dataDir/mapped here. */
const RULES = (dataDir: string) => ({
  version: 'pathmapping-1.0',
  path_mapping_rules: [
    { source_path_format: 'POSIX', source_path: '/farm', destination_path: '/nowhere' },
    {
      source_path_format: 'POSIX',
      source_path: '/farm/projects',
      destination_path: join(dataDir, 'mapped'),
    },
  ],
});

const SECRET = 'hunter2-s3cr3t';

/** A job environment whose onEnter tells a secret; every action prints it. */
function secretTemplate() {
  return {
    specificationVersion: 'jobtemplate-2023-09',
    extensions: ['REDACTED_ENV_VARS'],
    name: 'Secrets',
    parameterDefinitions: [{ name: 'Log', type: 'PATH' }],
    jobEnvironments: [
      {
        name: 'License',
        script: {
          actions: {
            onEnter: {
              command: 'bash',
              args: ['-c', `echo "openjd_redacted_env: LICENSE_KEY=${SECRET}"; echo entered`],
            },
            onExit: append('exit $LICENSE_KEY', '; echo "leaving with key $LICENSE_KEY"'),
          },
        },
      },
    ],
    steps: [
      {
        name: 'Render',
        parameterSpace: {
          taskParameterDefinitions: [{ name: 'Frame', type: 'INT', range: '1-3' }],
        },
        script: {
          actions: {
            onRun: append(
              'task {{Task.Param.Frame}} $LICENSE_KEY',
              '; echo "frame {{Task.Param.Frame}} uses key $LICENSE_KEY"',
            ),
          },
        },
      },
    ],
  };
}

/** A step of TWO_STEPS: its own environment, and tasks that log their step and frame. */
const step = (name: string, frames: string, more: Record<string, unknown> = {}) => ({
  name,
  stepEnvironments: [
    {
      name: `${name}Env`,
      variables: { STEP_VAR: name },
      script: {
        actions: { onEnter: append(`enter ${name} $FARM_VAR`), onExit: append(`exit ${name}`) },
      },
    },
  ],
  parameterSpace: { taskParameterDefinitions: [{ name: 'Frame', type: 'INT', range: frames }] },
  script: { actions: { onRun: append(`task $STEP_VAR {{Task.Param.Frame}} $LICENSE`) } },
  ...more,
});

/** Render → encode, each step with its environment, under one job environment. */
const TWO_STEPS = {
  specificationVersion: 'jobtemplate-2023-09',
  name: 'Two steps',
  parameterDefinitions: [{ name: 'Log', type: 'PATH' }],
  jobEnvironments,
  steps: [
    step('Render', '1-3'),
    step('Encode', '1-2', { dependencies: [{ dependsOn: 'Render' }] }),
  ],
};

/** PATH parameters of the job and of the task, mapped by the worker's rules. */
const PATH_TEMPLATE = {
  specificationVersion: 'jobtemplate-2023-09',
  name: 'Paths',
  parameterDefinitions: [
    { name: 'Log', type: 'PATH' },
    { name: 'Scene', type: 'PATH' },
  ],
  steps: [
    {
      name: 'Render',
      parameterSpace: {
        taskParameterDefinitions: [
          { name: 'Input', type: 'PATH', range: ['/farm/projects/a.exr', '/elsewhere/b.exr'] },
        ],
      },
      script: {
        actions: {
          onRun: {
            command: 'bash',
            args: [
              '-c',
              'echo "$1 $2 $3 $4 $5 $(cat "$6")" >> "$0"',
              '{{RawParam.Log}}',
              '{{Param.Scene}}',
              '{{RawParam.Scene}}',
              '{{Task.Param.Input}}',
              '{{Task.RawParam.Input}}',
              '{{Session.HasPathMappingRules}}',
              '{{Session.PathMappingRulesFile}}',
            ],
          },
        },
      },
    },
  ],
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
        const rules = join(e2e.dataDir, 'rules.json');
        writeFileSync(rules, JSON.stringify(RULES(e2e.dataDir)));
        worker = startWorker(e2e.url, 'openjd-sessions', join(e2e.dataDir, 'w'), [
          '--path-mapping-rules',
          rules,
        ]);
      });

      after(async () => {
        await worker?.stop();
        await e2e?.close();
      });

      async function submit(
        stepEnvironment: Record<string, unknown>,
        frames: string,
        log: string,
        doc: unknown = template(stepEnvironment, frames),
        parameters: Record<string, string> = {},
      ) {
        const res = await e2e.api('POST', '/api/v1/jobs', {
          template: doc,
          parameters: { Log: log, ...parameters },
          maxTries: 1,
        });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        return res.body.id as number;
      }

      async function stepOf(parentId: number) {
        const [step] = (await e2e.api('GET', `/api/v1/jobs?parent=${parentId}`)).body
          .items as any[];
        return step;
      }

      async function logOf(executionId: number): Promise<string[]> {
        const res = await e2e.api('GET', `/api/v1/executions/${executionId}/logs?limit=1000`);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        return (res.body.lines as any[]).map((l) => `${l.stream}: ${l.text}`);
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

      it("keeps the session's logs: onEnter in the first task's, onExit in the last's, secrets redacted", async () => {
        const log = join(e2e.dataDir, 'secret.log');
        const parentId = await submit({}, '', log, secretTemplate());
        assert.equal((await ended(parentId)).state, 'COMPLETED');
        await waitFor(
          'the environment to be exited',
          60_000,
          async () => (lines(log).includes(`exit ${SECRET}`) ? true : undefined),
          () => `${lines(log).join('\n')}\n${worker.output()}`,
        );
        // The variable is set for the session's later actions, with its value.
        assert.deepEqual(lines(log), [
          `task 1 ${SECRET}`,
          `task 2 ${SECRET}`,
          `task 3 ${SECRET}`,
          `exit ${SECRET}`,
        ]);
        const executions = await executionsOf(e2e, (await stepOf(parentId)).id);
        assert.equal(executions.length, 3);
        const [first, second] = await Promise.all(executions.map((e) => logOf(e.id)));
        // The onEnter's output is in the log of the task that entered, the line that told
        // the secret redacted too, and the command line that would print it.
        assert.ok(
          first!.includes('stdout: openjd_redacted_env: LICENSE_KEY=********'),
          first!.join('\n'),
        );
        assert.ok(first!.includes('stdout: entered'), first!.join('\n'));
        assert.ok(
          first!.some((l) => l.endsWith('["bash","-c","echo \\"openjd_redacted_env: ********')),
          first!.join('\n'),
        );
        assert.ok(first!.includes('stdout: frame 1 uses key ********'), first!.join('\n'));
        assert.ok(second!.includes('stdout: frame 2 uses key ********'), second!.join('\n'));
        // The onExit's output follows the last task's own lines, once the session ends.
        const exited = await waitFor(
          "the onExit output in the last task's log",
          30_000,
          async () => {
            const l = await logOf(executions[2].id);
            return l.includes('stdout: leaving with key ********') ? l : undefined;
          },
          () => worker.output(),
        );
        assert.ok(exited.includes('stdout: frame 3 uses key ********'), exited.join('\n'));
        const ends = exited.findIndex((l) => l.startsWith('worker: drover: the session ends'));
        assert.ok(ends > exited.indexOf('stdout: frame 3 uses key ********'), exited.join('\n'));
        assert.ok(
          exited.includes('worker: drover: exiting environment jobEnvironments[0] "License"'),
          exited.join('\n'),
        );
        // Nowhere on the server, nor in the worker's own log.
        for (const l of [...first!, ...second!, ...exited]) assert.ok(!l.includes(SECRET), l);
        assert.ok(!worker.output().includes(SECRET));

        // The session's own record: one session, its actions in order, its log.
        const session = await waitFor(
          'the session to be recorded as ended',
          30_000,
          async () => {
            const list = (await e2e.api('GET', `/api/v1/jobs/${parentId}/sessions`)).body;
            assert.equal(list.total, 1, JSON.stringify(list));
            return list.items[0].lifecycleStatus === 'ENDED' ? list.items[0] : undefined;
          },
          () => worker.output(),
        );
        assert.equal(session.endedReason, 'no more tasks of its job');
        const full = (await e2e.api('GET', `/api/v1/sessions/${session.id}`)).body;
        const ids = [...executions].sort((a, b) => a.id - b.id).map((e) => e.id);
        assert.deepEqual(
          full.actions.map((a: any) => [a.kind, a.status, a.executionId ?? a.environment]),
          [
            ['envEnter', 'SUCCEEDED', 'jobEnvironments[0] "License"'],
            ...ids.map((id) => ['taskRun', 'SUCCEEDED', id]),
            ['envExit', 'SUCCEEDED', 'jobEnvironments[0] "License"'],
          ],
        );
        const own = (await e2e.api('GET', `/api/v1/sessions/${session.id}/log`)).body.lines.map(
          (l: any) => `${l.stream}: ${l.text}`,
        ) as string[];
        const at = (line: string) => own.indexOf(line);
        assert.ok(at('stdout: entered') >= 0, own.join('\n'));
        for (const id of ids) {
          assert.ok(
            own.some((l) => l.includes(`runs as execution ${id}`)),
            own.join('\n'),
          );
        }
        assert.ok(at('stdout: leaving with key ********') > at('stdout: entered'), own.join('\n'));
        // The tasks' own output stays in their logs.
        assert.ok(!own.some((l) => l.includes('uses key')), own.join('\n'));
        for (const l of own) assert.ok(!l.includes(SECRET), l);
      });

      it("keeps the job's environment entered across its steps, swapping the steps'", async () => {
        const log = join(e2e.dataDir, 'two-steps.log');
        const parentId = await submit({}, '', log, TWO_STEPS);
        assert.equal((await ended(parentId)).state, 'COMPLETED');
        await waitFor(
          'the environments to be exited',
          60_000,
          async () => (lines(log).includes('exit job from-variables') ? true : undefined),
          () => `${lines(log).join('\n')}\n${worker.output()}`,
        );
        // One session for the job: its environment's onEnter once, each step's once, the
        // render step's exited before the encode step's is entered.
        assert.deepEqual(lines(log), [
          'enter job from-variables',
          'enter Render from-variables',
          'task Render 1 from-openjd-env',
          'task Render 2 from-openjd-env',
          'task Render 3 from-openjd-env',
          'exit Render',
          'enter Encode from-variables',
          'task Encode 1 from-openjd-env',
          'task Encode 2 from-openjd-env',
          'exit Encode',
          'exit job from-variables',
        ]);
        // The worker named its session's step and job in its claims, and the server took them.
        assert.ok(!worker.output().includes('refused a claim'), worker.output());
        // The render step's onExit output follows its last task's log.
        const steps = (await e2e.api('GET', `/api/v1/jobs?parent=${parentId}`)).body.items as any[];
        const render = steps.find((s) => s.childName === 'Render' || s.name.endsWith('Render'));
        assert.ok(render, JSON.stringify(steps));
        const renders = await executionsOf(e2e, render.id);
        const last = renders.sort((a: any, b: any) => a.id - b.id).at(-1);
        const exited = await logOf(last.id);
        assert.ok(
          exited.some(
            (l) => l.startsWith('worker: drover: step job') && l.includes('leaves the session'),
          ),
          exited.join('\n'),
        );
        assert.ok(
          exited.includes('worker: drover: exiting environment stepEnvironments[0] "RenderEnv"'),
          exited.join('\n'),
        );
      });

      it("maps PATH parameters by the worker's path mapping rules, longest source first", async () => {
        const log = join(e2e.dataDir, 'paths.log');
        const parentId = await submit({}, '', log, PATH_TEMPLATE, {
          Scene: '/farm/projects/shot1/scene.blend',
        });
        assert.equal((await ended(parentId)).state, 'COMPLETED');
        const mapped = join(e2e.dataDir, 'mapped');
        const rules = JSON.stringify(RULES(e2e.dataDir));
        assert.deepEqual(lines(log).sort(), [
          `${mapped}/shot1/scene.blend /farm/projects/shot1/scene.blend /elsewhere/b.exr /elsewhere/b.exr true ${rules}`,
          `${mapped}/shot1/scene.blend /farm/projects/shot1/scene.blend ${mapped}/a.exr /farm/projects/a.exr true ${rules}`,
        ]);
      });
    },
  );
}
