import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BUILTIN_JOB_TYPES } from '../../src/domain/builtin-job-types.js';
import {
  buildArgv,
  buildEnv,
  TemplateError,
  type TemplateValues,
} from '../../src/worker/command-template.js';
import { progressReader } from '../../src/worker/progress.js';

const values: TemplateValues = {
  jobId: 7,
  taskId: 70,
  executionId: 700,
  frameStart: 1,
  frameEnd: 5,
  frames: '1-5x2',
  inputs: { scene: '/scenes/a.blend', files: ['a', 'b'] },
  parameters: { quality: 90, flags: ['-v', '--out={output_dir}'], script: 'echo {start} ${X}' },
  outputDir: '/work/700/out',
};

describe('command templates', () => {
  it('fills frame, input, parameter and output tokens', () => {
    assert.deepEqual(
      buildArgv(
        [
          'render',
          '{input.scene}',
          '-s',
          '{start}',
          '-e',
          '{end}',
          '-f={frames}',
          '{output_dir}/x',
        ],
        values,
      ),
      ['render', '/scenes/a.blend', '-s', '1', '-e', '5', '-f=1-5x2', '/work/700/out/x'],
    );
    assert.deepEqual(buildArgv(['x', '{frame_list}', 'q{param.quality}'], values), [
      'x',
      '1,3,5',
      'q90',
    ]);
    assert.deepEqual(
      buildArgv(['x', '{frame_list...}', '{job_id}/{task_id}/{execution_id}'], values),
      ['x', '1', '3', '5', '7/70/700'],
    );
  });

  it("pads frame numbers to a width, as Deadline's <STARTFRAME%4> does", () => {
    assert.deepEqual(buildArgv(['{start:04}', 'f_{end:03}.exr'], values), ['0001', 'f_005.exr']);
    assert.deepEqual(buildArgv(['{start:04}'], { ...values, frameStart: -5 }), ['-0005']);
    assert.deepEqual(buildArgv(['{start:02}'], { ...values, frameStart: 12345 }), ['12345']);
  });

  it('spreads arrays, filling tokens in their elements once', () => {
    assert.deepEqual(buildArgv(['x', '{param.flags...}', '{input.files...}'], values), [
      'x',
      '-v',
      '--out=/work/700/out',
      'a',
      'b',
    ]);
    assert.deepEqual(buildArgv(['x', '{param.missing...}', '{param.missing}', 'y'], values), [
      'x',
      'y',
    ]);
  });

  it('does not rescan values or touch unknown braces', () => {
    assert.deepEqual(buildArgv(['/bin/sh', '-c', '{param.script}'], values), [
      '/bin/sh',
      '-c',
      'echo {start} ${X}',
    ]);
    assert.deepEqual(buildArgv(['awk', '{print $1}'], values), ['awk', '{print $1}']);
  });

  it('refuses an empty command', () => {
    assert.throws(() => buildArgv(['{param.missing}'], values), TemplateError);
    assert.throws(() => buildArgv([], values), TemplateError);
  });

  it('runs the built-in types as written', () => {
    const [commandLine, shellScript] = BUILTIN_JOB_TYPES;
    assert.deepEqual(
      buildArgv(commandLine!.definition.command, {
        ...values,
        parameters: { executable: 'echo', arguments: ['frame', '{start}'] },
      }),
      ['echo', 'frame', '1'],
    );
    assert.deepEqual(
      buildArgv(commandLine!.definition.command, { ...values, parameters: { executable: 'ls' } }),
      ['ls'],
    );
    assert.deepEqual(buildArgv(shellScript!.definition.command, values), [
      '/bin/sh',
      '-c',
      'echo {start} ${X}',
    ]);
  });

  it('puts the task facts in the environment', () => {
    const env = buildEnv({ PATH: '/bin', DROVER_START: 'x' }, { OUT: '{output_dir}' }, values);
    assert.equal(env.PATH, '/bin');
    assert.equal(env.OUT, '/work/700/out');
    assert.equal(env.DROVER_JOB_ID, '7');
    assert.equal(env.DROVER_TASK_ID, '70');
    assert.equal(env.DROVER_EXECUTION_ID, '700');
    assert.equal(env.DROVER_START, '1');
    assert.equal(env.DROVER_END, '5');
    assert.equal(env.DROVER_FRAMES, '1-5x2');
    assert.equal(env.DROVER_OUTPUT_DIR, '/work/700/out');
  });
});

describe('progress', () => {
  it('reads the default forms', () => {
    const read = progressReader();
    assert.equal(read('PROGRESS: 42'), 42);
    assert.equal(read('Progress: 42%'), 42);
    assert.equal(read('render progress=12.5'), 12.5);
    assert.equal(read('progress 150'), 100);
    assert.equal(read('nothing here'), undefined);
  });

  it('uses a job type pattern', () => {
    const read = progressReader('Rendered (\\d+)%');
    assert.equal(read('Rendered 7%'), 7);
    assert.equal(read('PROGRESS: 42'), undefined);
  });
});
