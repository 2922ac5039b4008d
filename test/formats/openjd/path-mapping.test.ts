import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { prepareEnvironment } from '../../../src/formats/openjd/openjd-environments.js';
import {
  prepareTask,
  sessionSymbols,
  type StepRun,
} from '../../../src/formats/openjd/openjd-run.js';
import {
  mapPath,
  orderRules,
  pathMappingDocument,
  readPathMappingRules,
  type PathMappingRule,
} from '../../../src/formats/openjd/path-mapping.js';
import { registerWorkerCommand } from '../../../src/worker/command.js';

/* OpenJD path mapping rules as a worker reads and applies them (pathmapping-1.0). */

const posix = (source: string, destination: string): PathMappingRule => ({
  source_path_format: 'POSIX',
  source_path: source,
  destination_path: destination,
});
const windows = (source: string, destination: string): PathMappingRule => ({
  source_path_format: 'WINDOWS',
  source_path: source,
  destination_path: destination,
});

const doc = (rules: unknown) => ({ version: 'pathmapping-1.0', path_mapping_rules: rules });

describe('OpenJD path mapping', () => {
  it('reads a pathmapping-1.0 document and refuses a malformed one by what is wrong', () => {
    assert.deepEqual(
      readPathMappingRules(
        doc([{ source_path_format: 'windows', source_path: 'P:\\proj', destination_path: '/p' }]),
      ),
      [windows('P:\\proj', '/p')],
    );
    const refuses = (value: unknown, message: RegExp) =>
      assert.throws(() => readPathMappingRules(value), message);
    refuses([], /must be a JSON object/);
    refuses(
      { version: 'pathmapping-2.0', path_mapping_rules: [] },
      /version must be "pathmapping-1.0"/,
    );
    refuses({ ...doc([]), extra: 1 }, /unknown field "extra"/);
    refuses(doc({}), /path_mapping_rules must be a list/);
    refuses(
      doc([{ source_path_format: 'MAC', source_path: '/a', destination_path: '/b' }]),
      /path_mapping_rules\[0\]\.source_path_format must be POSIX or WINDOWS/,
    );
    refuses(
      doc([{ source_path_format: 'POSIX', source_path: 'relative', destination_path: '/b' }]),
      /source_path must be an absolute POSIX path/,
    );
    refuses(
      doc([{ source_path_format: 'POSIX', source_path: '/a', destination_path: '' }]),
      /destination_path must be a path of 1 to 4096 characters/,
    );
    refuses(
      doc([{ source_path_format: 'POSIX', source_path: '/a', destination_path: '/b', x: 1 }]),
      /path_mapping_rules\[0\]: unknown field "x"/,
    );
  });

  it('maps by the longest matching source path, on whole components', () => {
    const rules = orderRules([
      posix('/mnt', '/short'),
      posix('/mnt/projects', '/data/projects'),
      posix('/mnt/projects/old/', '/archive/'),
    ]);
    assert.equal(mapPath(rules, '/mnt/projects/shot/a.exr'), '/data/projects/shot/a.exr');
    assert.equal(mapPath(rules, '/mnt/projects/old/a.exr'), '/archive/a.exr');
    assert.equal(mapPath(rules, '/mnt/projectsX/a.exr'), '/short/projectsX/a.exr');
    assert.equal(mapPath(rules, '/mnt/projects'), '/data/projects');
    // A trailing separator stays; `.` and doubled separators are dropped, as PurePath does.
    assert.equal(mapPath(rules, '/mnt//projects/./out/'), '/data/projects/out/');
    assert.equal(mapPath(rules, '/other/a.exr'), '/other/a.exr');
    assert.equal(mapPath(rules, 'mnt/projects/a'), 'mnt/projects/a');
    // POSIX paths are case-sensitive.
    assert.equal(mapPath(rules, '/MNT/projects/a'), '/MNT/projects/a');
  });

  it('matches Windows source paths without regard to case or separator', () => {
    const rules = orderRules([
      windows('P:\\Projects', '/mnt/projects'),
      windows('\\\\srv\\share', '/mnt/share'),
    ]);
    assert.equal(mapPath(rules, 'p:/projects/Shot/a.exr'), '/mnt/projects/Shot/a.exr');
    assert.equal(mapPath(rules, 'P:\\PROJECTS\\a.exr'), '/mnt/projects/a.exr');
    assert.equal(mapPath(rules, '\\\\SRV\\share\\x\\'), '/mnt/share/x/');
    assert.equal(mapPath(rules, 'Q:\\Projects\\a.exr'), 'Q:\\Projects\\a.exr');
  });

  it('writes the rules file as openjd-sessions does', () => {
    assert.equal(pathMappingDocument([]), '{}');
    assert.deepEqual(
      JSON.parse(pathMappingDocument([posix('/a', '/b')])),
      doc([posix('/a', '/b')]),
    );
  });

  it("maps Param.X and Task.Param.X of PATH parameters, never RawParam's", () => {
    const run: StepRun = {
      step: 'Render',
      onRun: {
        command: 'render',
        args: [
          '{{Param.Scene}}',
          '{{RawParam.Scene}}',
          '{{Param.Name}}',
          '{{Task.Param.In}}',
          '{{Task.RawParam.In}}',
          '{{Session.HasPathMappingRules}}',
        ],
        cancelation: { mode: 'TERMINATE' },
      },
      embeddedFiles: [],
      symbols: {
        'Param.Scene': '/mnt/projects/a.blend',
        'RawParam.Scene': '/mnt/projects/a.blend',
        'Param.Name': '/mnt/projects/not-a-path',
        'RawParam.Name': '/mnt/projects/not-a-path',
      },
      pathParameters: ['Scene'],
      pathTaskParameters: ['In'],
      jobEnvironments: [{ name: 'E', variables: { SCENE: '{{Param.Scene}}' }, embeddedFiles: [] }],
    };
    const rules = [posix('/mnt/projects', '/data')];
    const { argv } = prepareTask(run, { In: '/mnt/projects/in.exr' }, '/w/s', rules);
    assert.deepEqual(argv, [
      'render',
      '/data/a.blend',
      '/mnt/projects/a.blend',
      '/mnt/projects/not-a-path',
      '/data/in.exr',
      '/mnt/projects/in.exr',
      'true',
    ]);
    const entered = prepareEnvironment(run, run.jobEnvironments![0]!, '/w/s', rules);
    assert.deepEqual(entered.variables, { SCENE: '/data/a.blend' });
    // Without rules, nothing is mapped and the session says so.
    const plain = sessionSymbols(run, '/w/s');
    assert.equal(plain.get('Param.Scene'), '/mnt/projects/a.blend');
    assert.equal(plain.get('Session.HasPathMappingRules'), 'false');
    assert.equal(plain.get('Session.PathMappingRulesFile'), '/w/s/path-mapping.json');
  });

  it('drover worker --path-mapping-rules refuses a file it cannot use, before starting', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'drover-rules-'));
    try {
      const parse = async (file: string) => {
        let errors = '';
        const program = new Command()
          .exitOverride()
          .configureOutput({ writeErr: (text) => (errors += text), writeOut: () => undefined });
        registerWorkerCommand(program);
        await assert.rejects(
          program.parseAsync(['worker', '--path-mapping-rules', file], { from: 'user' }),
        );
        return errors;
      };
      const bad = join(dir, 'bad.json');
      writeFileSync(bad, JSON.stringify(doc([{ source_path_format: 'POSIX', source_path: '/a' }])));
      assert.match(
        await parse(bad),
        /bad\.json: path_mapping_rules\[0\]\.destination_path must be a path of 1 to 4096 characters/,
      );
      assert.match(await parse(join(dir, 'missing.json')), /cannot read .*missing\.json/);
      writeFileSync(bad, '{not json');
      assert.match(await parse(`file://${bad}`), /bad\.json: .*JSON/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
