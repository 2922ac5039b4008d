import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  cancelInfo,
  prepareTask,
  stepRunOf,
  type StepRun,
} from '../../../src/formats/openjd/openjd-run.js';

/* What a worker runs for one task of an OpenJD step, before any process starts. */

const run: StepRun = {
  step: 'Render',
  onRun: {
    command: '{{Param.Blender}}',
    args: [
      '{{Task.File.Script}}',
      '-f',
      '{{Task.Param.Frame}}',
      '{{ Session.WorkingDirectory }}/out',
    ],
    cancelation: { mode: 'NOTIFY_THEN_TERMINATE', notifyPeriodInSeconds: 30 },
  },
  embeddedFiles: [
    {
      name: 'Script',
      filename: 'render.py',
      runnable: true,
      data: 'frame = {{Task.Param.Frame}}\n',
    },
    { name: 'Notes', runnable: false, data: 'camera {{Task.RawParam.Camera}} in {{RawParam.Out}}' },
  ],
  symbols: { 'Param.Blender': '/opt/blender', 'RawParam.Out': '/mnt/{{x}}' },
};

describe('OpenJD tasks on the worker', () => {
  it('resolves the action and the files with job, task, file and session values', () => {
    const p = prepareTask(run, { Frame: '12', Camera: 'side' }, '/work/7');
    assert.deepEqual(p.argv, ['/opt/blender', '/work/7/render.py', '-f', '12', '/work/7/out']);
    assert.deepEqual(p.files[0], { path: '/work/7/render.py', data: 'frame = 12\n', mode: 0o500 });
    // Without a filename the file gets a fresh name; a value's braces are not read again.
    assert.match(p.files[1]!.path, /^\/work\/7\/Notes-[0-9a-f]{12}$/);
    assert.equal(p.files[1]!.data, 'camera side in /mnt/{{x}}');
    assert.equal(p.files[1]!.mode, 0o400);
    assert.equal(p.graceMs, 30_000);
    assert.equal(p.notify, true);
  });

  it('TERMINATE kills at once; the default notify period is 120 s', () => {
    const terminate = prepareTask(
      { ...run, onRun: { ...run.onRun, cancelation: { mode: 'TERMINATE' } } },
      { Frame: '1', Camera: 'a' },
      '/w',
    );
    assert.equal(terminate.graceMs, 0);
    assert.equal(terminate.notify, false);
    const notify = prepareTask(
      { ...run, onRun: { ...run.onRun, cancelation: { mode: 'NOTIFY_THEN_TERMINATE' } } },
      { Frame: '1', Camera: 'a' },
      '/w',
    );
    assert.equal(notify.graceMs, 120_000);
  });

  it('refuses a reference the task has no value for', () => {
    assert.throws(() => prepareTask(run, {}, '/w'), /no value for \{\{Task.Param.Frame\}\}/);
  });

  it("reads the step from a job's parameters, and writes cancel_info.json as the spec shows", () => {
    assert.equal(stepRunOf({ openjd: run }), run);
    assert.equal(stepRunOf({ script: 'x' }), undefined);
    assert.equal(
      cancelInfo(Date.UTC(2026, 11, 5, 12, 0, 0, 500), 30_000),
      '{"NotifyEnd":"2026-12-05T12:00:30Z"}',
    );
  });
});
