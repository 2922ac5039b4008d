/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import { api, buildOnce, drover, expectRun, ROOT } from './support.js';

/* `drover submit --bundle DIR`: a Deadline Cloud job bundle folder, run by the real binary. */

const TEMPLATE = `specificationVersion: jobtemplate-2023-09
name: Bundle {{Param.Shot}}
parameterDefinitions:
  - name: Shot
    type: STRING
    default: sh010
  - name: Frames
    type: STRING
    default: 1-2
  - name: SceneFile
    type: PATH
    objectType: FILE
    dataFlow: IN
    default: scenes/shot.blend
  - name: OutputDir
    type: PATH
    objectType: DIRECTORY
    dataFlow: OUT
  - name: Quality
    type: INT
    default: 1
    minValue: 1
    maxValue: 10
steps:
  - name: Render
    parameterSpace:
      taskParameterDefinitions:
        - name: Frame
          type: INT
          range: "{{Param.Frames}}"
    script:
      actions:
        onRun:
          command: echo
          args: ["{{Param.SceneFile}}", "{{Param.OutputDir}}", "{{Task.Param.Frame}}"]
`;

const VALUES = `parameterValues:
  - name: Frames
    value: 1-3
  - name: OutputDir
    value: renders/out
  - name: Quality
    value: 3
  - name: deadline:priority
    value: 70
  - name: deadline:targetTaskRunStatus
    value: SUSPENDED
  - name: deadline:maxRetriesPerTask
    value: 2
`;

for (const database of TEST_DATABASES) {
  describe(`drover submit --bundle (${database.name})`, () => {
    let t: TestServer;
    let dir: string;
    before(async () => {
      await buildOnce();
      t = await startTestServer(database);
      dir = mkdtempSync(join(tmpdir(), 'drover-cli-bundle-'));
    });
    after(async () => {
      await t?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    const bundle = (name: string, files: Record<string, string>): string => {
      const path = join(dir, name);
      mkdirSync(path, { recursive: true });
      for (const [file, text] of Object.entries(files)) writeFileSync(join(path, file), text);
      return path;
    };
    const stepOf = async (parentId: number): Promise<any> => {
      const steps = (await api(t, 'GET', `/jobs?parent=${parentId}`)).items;
      assert.equal(steps.length, 1);
      return api(t, 'GET', `/jobs/${steps[0].id}`);
    };

    it('submits the template with the saved values, -p winning, PATH values made absolute', async () => {
      const path = bundle('render', {
        'template.yaml': TEMPLATE,
        'parameter_values.yaml': VALUES,
        'asset_references.yaml': 'assetReferences:\n  inputs:\n    filenames: []\n',
      });
      const run = await drover(t, [
        'submit',
        '--bundle',
        path,
        '-p',
        'Frames=2-5',
        '-p',
        'Shot=sh020',
      ]);
      expectRun(
        run,
        0,
        /^\d+\n$/,
        `drover: note: ${join(path, 'asset_references.yaml')} is not read (Drover has no job attachments)\n`,
      );
      const parent = await api(t, 'GET', `/jobs/${Number(run.stdout)}`);
      assert.equal(parent.type.name, 'openjd-job');
      assert.equal(parent.name, 'Bundle sh020');
      // The deadline:* settings are the job's.
      assert.equal(parent.priority, 70);
      assert.equal(parent.state, 'SUSPENDED');
      assert.equal(parent.maxTries, 3, 'two retries after the first try');
      const step = await stepOf(parent.id);
      assert.equal(step.tasks.total, 4, '-p Frames=2-5 beat the saved 1-3');
      const symbols = step.parameters.openjd.symbols;
      assert.equal(symbols['Param.Quality'], '3', 'the saved value');
      // A saved relative PATH and a relative default are relative to the bundle folder.
      assert.equal(symbols['Param.OutputDir'], join(path, 'renders/out'));
      assert.equal(symbols['Param.SceneFile'], join(path, 'scenes/shot.blend'));
    });

    it('reads template.json and parameter_values.json; a -p PATH is relative to the current directory', async () => {
      const json = JSON.parse(JSON.stringify(await import('yaml').then((y) => y.parse(TEMPLATE))));
      const path = bundle('json', {
        'template.json': JSON.stringify(json),
        'parameter_values.json': JSON.stringify({
          parameterValues: [{ name: 'OutputDir', value: '/abs/out' }],
        }),
      });
      const run = await drover(t, [
        'submit',
        '--bundle',
        path,
        '-p',
        'SceneFile=here.blend',
        '--json',
      ]);
      expectRun(run, 0, /"id"/);
      const parent = JSON.parse(run.stdout);
      assert.equal(parent.state, 'QUEUED');
      const symbols = (await stepOf(parent.id)).parameters.openjd.symbols;
      assert.equal(symbols['Param.OutputDir'], '/abs/out');
      // drover runs with its current directory at the repository root (support.ts).
      assert.equal(symbols['Param.SceneFile'], join(ROOT, 'here.blend'));
      assert.equal(symbols['Param.Frames'], '1-2', 'the default');
    });

    it('refuses a folder without a template, bad YAML and unknown parameter names', async () => {
      const jobsBefore = (await api(t, 'GET', '/jobs')).items.length;
      const empty = bundle('empty', {});
      expectRun(
        await drover(t, ['submit', '--bundle', empty]),
        1,
        '',
        `drover: the job bundle ${empty} has no template.yaml or template.json\n`,
      );
      const bad = bundle('bad', { 'template.yaml': 'name: [unclosed\n' });
      expectRun(
        await drover(t, ['submit', '--bundle', bad]),
        1,
        '',
        new RegExp(`^drover: ${join(bad, 'template.yaml')} is not valid YAML: `),
      );
      const ok = bundle('unknown', { 'template.yaml': TEMPLATE });
      expectRun(
        await drover(t, ['submit', '--bundle', ok, '-p', 'OutputDir=/o', '-p', 'Fram=1-3']),
        1,
        '',
        'drover: -p: the template defines no job parameter "Fram" (it defines Shot, Frames, SceneFile, OutputDir, Quality)\n',
      );
      const saved = bundle('saved', {
        'template.yaml': TEMPLATE,
        'parameter_values.yaml': 'parameterValues:\n  - name: Camera\n    value: side\n',
      });
      expectRun(
        await drover(t, ['submit', '--bundle', saved]),
        1,
        '',
        new RegExp(`parameter_values.yaml: the template defines no job parameter "Camera"`),
      );
      const setting = bundle('setting', {
        'template.yaml': TEMPLATE,
        'parameter_values.yaml':
          'parameterValues:\n  - name: deadline:maxWorkerCount\n    value: 3\n',
      });
      expectRun(
        await drover(t, ['submit', '--bundle', setting, '-p', 'OutputDir=/o']),
        1,
        '',
        /deadline:maxWorkerCount: Drover does not take this setting/,
      );
      // The server still checks the values against the template.
      expectRun(
        await drover(t, ['submit', '--bundle', ok, '-p', 'OutputDir=/o', '-p', 'Quality=11']),
        1,
        '',
        /parameters\.Quality/,
      );
      assert.equal((await api(t, 'GET', '/jobs')).items.length, jobsBefore, 'nothing submitted');
    });
  });
}
