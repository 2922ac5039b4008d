import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  prepareAction,
  prepareEnvironment,
  sessionEnvironments,
} from '../../../src/formats/openjd/openjd-environments.js';
import type { StepRun } from '../../../src/formats/openjd/openjd-run.js';
import { readOpenjdMessage } from '../../../src/worker/openjd-messages.js';
import { redactCommand, Redactions } from '../../../src/worker/openjd-redaction.js';

/* What a worker runs to enter and exit an OpenJD environment, before any process starts. */

const run: StepRun = {
  step: 'Render',
  onRun: { command: 'true', args: [], cancelation: { mode: 'TERMINATE' } },
  embeddedFiles: [],
  symbols: { 'Param.Out': '/mnt/out', 'RawParam.Out': '/mnt/out' },
  jobEnvironments: [
    {
      name: 'Farm',
      variables: { OUT: '{{Param.Out}}', DIR: '{{Session.WorkingDirectory}}' },
      embeddedFiles: [
        { name: 'Setup', filename: 'setup.sh', runnable: true, data: 'cd {{Param.Out}}' },
      ],
      onEnter: {
        command: 'bash',
        args: ['{{Env.File.Setup}}'],
        cancelation: { mode: 'NOTIFY_THEN_TERMINATE' },
        timeout: 60,
      },
    },
  ],
  stepEnvironments: [
    {
      name: 'Blender',
      variables: {},
      embeddedFiles: [],
      onExit: { command: 'x', args: [], cancelation: { mode: 'TERMINATE' } },
    },
  ],
};

describe('OpenJD environments on the worker', () => {
  it("enters the job's environments, then the step's", () => {
    assert.deepEqual(
      sessionEnvironments(run).map((e) => e.label),
      ['jobEnvironments[0] "Farm"', 'stepEnvironments[0] "Blender"'],
    );
    // The job's stay entered when the session moves to another step; the step's do not.
    assert.deepEqual(
      sessionEnvironments(run).map((e) => e.scope),
      ['job', 'step'],
    );
    assert.deepEqual(
      sessionEnvironments({ ...run, jobEnvironments: undefined, stepEnvironments: undefined }),
      [],
    );
  });

  it('resolves variables, files and actions with the session and its files', () => {
    const entered = prepareEnvironment(run, run.jobEnvironments![0]!, '/w/session-1');
    assert.deepEqual(entered.variables, { OUT: '/mnt/out', DIR: '/w/session-1' });
    assert.deepEqual(entered.files, [
      { path: '/w/session-1/setup.sh', data: 'cd /mnt/out', mode: 0o500 },
    ]);
    const action = prepareAction(entered, run.jobEnvironments![0]!.onEnter!);
    assert.deepEqual(action, {
      argv: ['bash', '/w/session-1/setup.sh'],
      timeout: 60,
      // An environment action's default notify period is 30 s (onRun's is 120 s).
      graceMs: 30_000,
      notify: true,
    });
  });

  it('reads openjd_env and openjd_unset_env', () => {
    assert.deepEqual(readOpenjdMessage('openjd_env: A=b=c '), {
      kind: 'env',
      name: 'A',
      value: 'b=c ',
    });
    assert.deepEqual(readOpenjdMessage('openjd_unset_env: PATH'), {
      kind: 'unset_env',
      name: 'PATH',
    });
    assert.equal(readOpenjdMessage('openjd_env: 1A=b')?.kind, 'malformed');
    assert.equal(readOpenjdMessage('openjd_env: novalue')?.kind, 'malformed');
    assert.equal(readOpenjdMessage('openjd_unset_env: A B')?.kind, 'malformed');
  });

  it('reads openjd_redacted_env, plain and as a JSON string', () => {
    assert.deepEqual(readOpenjdMessage('openjd_redacted_env: KEY=s3cr=t'), {
      kind: 'redacted_env',
      name: 'KEY',
      value: 's3cr=t',
      secrets: { values: ['s3cr=t'], lines: [] },
    });
    assert.deepEqual(readOpenjdMessage('openjd_redacted_env: "KEY=one\\ntwo\\nthree"'), {
      kind: 'redacted_env',
      name: 'KEY',
      value: 'one\ntwo\nthree',
      secrets: {
        values: ['one\ntwo\nthree', 'one\\ntwo\\nthree"', 'one', 'three'],
        lines: ['two'],
      },
    });
    // Malformed: no variable, but what it held is kept out of the log all the same.
    assert.deepEqual(readOpenjdMessage('openjd_redacted_env: 1KEY=hidden'), {
      kind: 'malformed',
      note: 'openjd_redacted_env must be NAME=VALUE with a variable name (not a variable name); no variable is set',
      secrets: { values: ['hidden'], lines: [] },
    });
    assert.equal(readOpenjdMessage('openjd_env: "A=b"')?.kind, 'env');
  });

  it('redacts what it learned from every later line, as openjd-sessions does', () => {
    const r = new Redactions();
    assert.equal(r.apply('nothing to hide'), 'nothing to hide');
    r.learn({ values: ['abcd', 'cdef'], lines: ['mid'] });
    // Overlapping occurrences become one ********.
    assert.equal(r.apply('x abcdef y abcd'), 'x ******** y ********');
    assert.equal(r.apply('mid'), '********');
    assert.equal(r.apply('a mid line'), 'a mid line');
    assert.equal(
      redactCommand('["bash","-c","echo openjd_redacted_env: K=V; run"]'),
      '["bash","-c","echo openjd_redacted_env: ********',
    );
    assert.equal(redactCommand('["render"]'), '["render"]');
  });
});
