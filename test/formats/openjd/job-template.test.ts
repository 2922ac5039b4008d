import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { DroverError } from '../../../src/domain/errors.js';
import {
  checkJobTemplate,
  readTemplateDocument,
} from '../../../src/formats/openjd/job-template.js';
import type { Problem } from '../../../src/formats/openjd/template-problems.js';

const FIXTURE = new URL('./fixtures/render-encode.yaml', import.meta.url);
const text = readFileSync(FIXTURE, 'utf8');
type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const fresh = (): Doc => readTemplateDocument(text) as Doc;

function problemsOf(doc: unknown): Problem[] {
  try {
    checkJobTemplate(doc);
  } catch (error) {
    assert.ok(error instanceof DroverError, String(error));
    assert.equal(error.status, 400);
    return (error.details as { problems: Problem[] }).problems;
  }
  assert.fail('the template was accepted');
}

/** The change to the fixture is refused with a problem at `path` whose message matches. */
function refuses(change: (doc: Doc) => void, path: string, rule: RegExp): void {
  const doc = fresh();
  change(doc);
  const problems = problemsOf(doc);
  assert.ok(
    problems.some((p) => p.path === path && rule.test(p.message)),
    `expected ${path}: ${rule}; got\n${problems.map((p) => `${p.path}: ${p.message}`).join('\n')}`,
  );
}

const render = (d: Doc) => d.steps[0];
const space = (d: Doc) => render(d).parameterSpace;

describe('OpenJD job templates: accepted', () => {
  it('the render → encode template, from YAML and from JSON alike', () => {
    const fromYaml = checkJobTemplate(fresh());
    const fromJson = checkJobTemplate(readTemplateDocument(JSON.stringify(fresh())));
    assert.deepEqual(fromJson, fromYaml);
    assert.deepEqual(
      fromYaml.steps.map((s) => [s.name, s.dependsOn]),
      [
        ['Render', []],
        ['Encode', ['Render']],
      ],
    );
    assert.equal(fromYaml.parameterDefinitions.find((p) => p.name === 'Fps')?.default, '24');
    assert.deepEqual(fromYaml.steps[0]!.script.onRun.cancelation, {
      mode: 'NOTIFY_THEN_TERMINATE',
      notifyPeriodInSeconds: 5,
    });
    assert.equal(fromYaml.steps[0]!.script.embeddedFiles[0]!.runnable, true);
  });

  it('orders steps so that each comes after those it depends on', () => {
    const doc = fresh();
    doc.steps.reverse();
    assert.deepEqual(
      checkJobTemplate(doc).steps.map((s) => s.name),
      ['Render', 'Encode'],
    );
  });

  it("the specification's shapes: step names with spaces, association, environments, chunking", () => {
    const doc = fresh();
    doc.extensions = ['TASK_CHUNKING'];
    doc.steps[1].name = 'Encode the movie';
    doc.steps[1].dependencies = [{ dependsOn: 'Render' }];
    space(doc).taskParameterDefinitions = [
      {
        name: 'Frame',
        type: 'CHUNK[INT]',
        range: '1-100',
        chunks: { defaultTaskCount: 10, rangeConstraint: 'CONTIGUOUS' },
      },
      { name: 'Camera', type: 'STRING', range: ['front', 'side'] },
      { name: 'Lens', type: 'FLOAT', range: [35, '50.5'] },
    ];
    space(doc).combination = 'Frame * (Camera, Lens)';
    doc.jobEnvironments = [
      {
        name: 'Scene',
        variables: { SCENE_ROOT: '{{Param.OutputDir}}/scene' },
        script: {
          actions: {
            onEnter: { command: 'bash', args: ['{{Env.File.Enter}}'] },
            onExit: { command: 'echo', args: ['bye {{Session.WorkingDirectory}}'] },
          },
          embeddedFiles: [{ name: 'Enter', type: 'TEXT', data: 'echo openjd_env: A=1' }],
        },
      },
    ];
    render(doc).stepEnvironments = [{ name: 'Blender', variables: { BLENDER_VERSION: '4.0' } }];
    const t = checkJobTemplate(doc);
    assert.equal(t.jobEnvironments[0]!.onExit?.args[0], 'bye {{Session.WorkingDirectory}}');
  });
});

describe('OpenJD job templates: refused with the path and the rule', () => {
  it('a document that is not a 2023-09 job template', () => {
    refuses(
      (d) => (d.specificationVersion = 'jobtemplate-2024-01'),
      'specificationVersion',
      /must be "jobtemplate-2023-09"/,
    );
    assert.throws(() => readTemplateDocument('steps: [unclosed'), /not a JSON or YAML document/);
    // A YAML document that expands without end through aliases is refused, not expanded.
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]']
      .concat(
        Array.from({ length: 8 }, (_, i) => {
          const prev = i === 0 ? 'a' : `b${i - 1}`;
          return `b${i}: &b${i} [${Array(10).fill(`*${prev}`).join(', ')}]`;
        }),
      )
      .join('\n');
    assert.throws(() => readTemplateDocument(bomb), /not a JSON or YAML document/);
    assert.throws(
      () => readTemplateDocument('x'.repeat(1024 * 1024 + 1)),
      /larger than 1048576 bytes/,
    );
  });

  it('an unknown field, as openjd check forbids extra fields', () => {
    refuses(
      (d) => (render(d).script.actions.onRun.comand = 'x'),
      'steps[0].script.actions.onRun.comand',
      /unknown field/,
    );
  });

  it('a job parameter whose name is no identifier', () => {
    refuses(
      (d) => (d.parameterDefinitions[0].name = '1Shot'),
      'parameterDefinitions[0].name',
      /not an identifier/,
    );
  });

  it('defaults outside minValue/maxValue, allowedValues, min/maxLength', () => {
    refuses(
      (d) => (d.parameterDefinitions[3].default = 1.5),
      'parameterDefinitions[3].default',
      /above maxValue 1/,
    );
    refuses(
      (d) => (d.parameterDefinitions[4].default = 23),
      'parameterDefinitions[4].default',
      /not one of allowedValues/,
    );
    refuses(
      (d) => (d.parameterDefinitions[0].default = ''),
      'parameterDefinitions[0].default',
      /shorter than minLength 1/,
    );
    refuses(
      (d) => (d.parameterDefinitions[0].minLength = 40),
      'parameterDefinitions[0].minLength',
      /greater than maxLength/,
    );
    refuses(
      (d) => (d.parameterDefinitions[4].default = 'x'),
      'parameterDefinitions[4].default',
      /must be an integer/,
    );
    refuses(
      (d) => (d.parameterDefinitions[2].type = 'FILE'),
      'parameterDefinitions[2].type',
      /one of STRING, PATH, INT, FLOAT/,
    );
    refuses(
      (d) => (d.parameterDefinitions[1].userInterface = { control: 'DROPDOWN_LIST' }),
      'parameterDefinitions[1].userInterface.control',
      /needs allowedValues/,
    );
  });

  it('two steps of one name', () => {
    refuses((d) => (d.steps[1].name = 'Render'), 'steps[1].name', /step names must be unique/);
  });

  it('a dependency on a step that does not exist, or on itself', () => {
    refuses(
      (d) => (d.steps[1].dependencies[0].dependsOn = 'Denoise'),
      'steps[1].dependencies[0].dependsOn',
      /no step is named "Denoise"/,
    );
    refuses(
      (d) => (d.steps[1].dependencies[0].dependsOn = 'Encode'),
      'steps[1].dependencies[0].dependsOn',
      /cannot depend on itself/,
    );
    refuses((d) => (d.steps[1].dependencies = []), 'steps[1].dependencies', /at least 1 element/);
  });

  it('a dependency cycle', () => {
    refuses(
      (d) => (render(d).dependencies = [{ dependsOn: 'Encode' }]),
      'steps[0].dependencies',
      /cycle: "Render" → "Encode" → "Render"/,
    );
  });

  it('range expressions that overlap or are no ranges', () => {
    refuses(
      (d) => (space(d).taskParameterDefinitions[0].range = '1-10:4,10-15'),
      'steps[0].parameterSpace.taskParameterDefinitions[0].range',
      /overlap/,
    );
    refuses(
      (d) => (space(d).taskParameterDefinitions[0].range = '1..10'),
      'steps[0].parameterSpace.taskParameterDefinitions[0].range',
      /not an integer, a range/,
    );
    refuses(
      (d) => (space(d).taskParameterDefinitions[0].range = ['1', 'two']),
      'steps[0].parameterSpace.taskParameterDefinitions[0].range[1]',
      /"two" is not an integer/,
    );
    refuses(
      (d) => (space(d).taskParameterDefinitions[1].range = []),
      'steps[0].parameterSpace.taskParameterDefinitions[1].range',
      /at least 1 element/,
    );
  });

  it('combination expressions: unknown, repeated, missing parameters, syntax, unequal association', () => {
    const c = 'steps[0].parameterSpace.combination';
    refuses((d) => (space(d).combination = 'Frame * Lens'), c, /"Lens" is not a task parameter/);
    refuses(
      (d) => (space(d).combination = 'Frame * Camera * Frame'),
      c,
      /"Frame" occurs more than once/,
    );
    refuses((d) => (space(d).combination = 'Frame'), c, /task parameter "Camera" is missing/);
    refuses((d) => (space(d).combination = 'Frame * (Camera'), c, /expected "," or "\)"/);
    // Known with the template when the ranges are literal (else at submission).
    refuses(
      (d) => {
        space(d).taskParameterDefinitions[0].range = '1-4';
        space(d).combination = '(Frame, Camera)';
      },
      c,
      /Frame has 4, Camera has 2/,
    );
    refuses(
      (d) => (space(d).taskParameterDefinitions[1].name = 'Frame'),
      'steps[0].parameterSpace.taskParameterDefinitions[1].name',
      /defined twice/,
    );
  });

  it('CHUNK[INT] without its extension, or in an association', () => {
    const t0 = 'steps[0].parameterSpace.taskParameterDefinitions[0]';
    refuses(
      (d) =>
        Object.assign(space(d).taskParameterDefinitions[0], {
          type: 'CHUNK[INT]',
          chunks: { defaultTaskCount: 2, rangeConstraint: 'CONTIGUOUS' },
        }),
      `${t0}.type`,
      /needs the TASK_CHUNKING extension/,
    );
    refuses(
      (d) => {
        d.extensions = ['TASK_CHUNKING'];
        Object.assign(space(d).taskParameterDefinitions[0], {
          type: 'CHUNK[INT]',
          range: '1-2',
          chunks: { defaultTaskCount: 0, rangeConstraint: 'CONTIGUOUS' },
        });
        space(d).combination = '(Frame, Camera)';
      },
      'steps[0].parameterSpace.combination',
      /CHUNK\[INT\] and must not be in an association/,
    );
    refuses((d) => (d.extensions = ['EXPR']), 'extensions[0]', /extension EXPR is not supported/);
  });

  it('value references out of scope: Task.* outside a script, Param of a PATH outside the host', () => {
    refuses(
      (d) => (d.name = 'Job {{Task.Param.Frame}}'),
      'name',
      /task parameters are available only in a step's script/,
    );
    refuses(
      (d) => (space(d).taskParameterDefinitions[1].range = ['{{Param.OutputDir}}']),
      'steps[0].parameterSpace.taskParameterDefinitions[1].range[0]',
      /PATH parameter.*use RawParam.OutputDir here/,
    );
    refuses(
      (d) => (render(d).script.actions.onRun.args[2] = '{{Task.Param.Lens}}'),
      'steps[0].script.actions.onRun.args[2]',
      /no task parameter "Lens"/,
    );
    refuses(
      (d) => (render(d).script.actions.onRun.args[0] = '{{Task.File.Missing}}'),
      'steps[0].script.actions.onRun.args[0]',
      /embeds no file "Missing"/,
    );
    refuses((d) => (d.name = '{{Param.Nope}}'), 'name', /no job parameter is named "Nope"/);
    refuses(
      (d) => (d.name = '{{Session.WorkingDirectory}}'),
      'name',
      /only in environments and step scripts/,
    );
    refuses((d) => (d.name = '{{Param.Shot'), 'name', /never closed/);
    refuses(
      (d) => (d.steps[1].script.embeddedFiles[0].data = '{{Task.File.Render}}'),
      'steps[1].script.embeddedFiles[0].data',
      /embeds no file "Render"/,
    );
  });

  it('actions, embedded files and environments that break their rules', () => {
    const run = 'steps[0].script.actions.onRun';
    refuses(
      (d) => (render(d).script.actions.onRun.timeout = 0),
      `${run}.timeout`,
      /positive integer/,
    );
    refuses(
      (d) => (render(d).script.actions.onRun.cancelation.notifyPeriodInSeconds = 601),
      `${run}.cancelation.notifyPeriodInSeconds`,
      /1 to 600/,
    );
    refuses(
      (d) => (render(d).script.actions.onRun.command = ''),
      `${run}.command`,
      /at least 1 character/,
    );
    refuses(
      (d) => delete render(d).script.actions.onRun,
      `${run}`,
      /must be an object with a command/,
    );
    refuses(
      (d) => (render(d).script.embeddedFiles[0].filename = '../render.sh'),
      'steps[0].script.embeddedFiles[0].filename',
      /without directories/,
    );
    refuses(
      (d) => (render(d).script.embeddedFiles[0].type = 'BINARY'),
      'steps[0].script.embeddedFiles[0].type',
      /must be TEXT/,
    );
    refuses(
      (d) => {
        d.jobEnvironments = [{ name: 'Env', variables: { A: '1' } }];
        render(d).stepEnvironments = [{ name: 'Env', variables: { B: '2' } }];
      },
      'steps[0].stepEnvironments[0].name',
      /also the name of jobEnvironments\[0\]/,
    );
    refuses(
      (d) => (d.jobEnvironments = [{ name: 'Env' }]),
      'jobEnvironments[0]',
      /needs a script, variables, or both/,
    );
    refuses(
      (d) => (d.jobEnvironments = [{ name: 'Env', variables: { '1A': 'x' } }]),
      'jobEnvironments[0].variables.1A',
      /not a variable name/,
    );
  });

  it('host requirements with names that are no capabilities', () => {
    refuses(
      (d) => (render(d).hostRequirements.amounts[0].name = 'worker.vcpu'),
      'steps[0].hostRequirements.amounts[0].name',
      /not an amount capability name/,
    );
    refuses(
      (d) => (render(d).hostRequirements = {}),
      'steps[0].hostRequirements',
      /needs amounts, attributes, or both/,
    );
  });

  it('a template without steps, and size limits', () => {
    refuses((d) => (d.steps = []), 'steps', /at least 1 element/);
    refuses((d) => (d.description = 'x'.repeat(2049)), 'description', /at most 2048 characters/);
    refuses((d) => (render(d).name = 'R'.repeat(65)), 'steps[0].name', /at most 64 characters/);
    refuses(
      (d) =>
        (d.parameterDefinitions = Array.from({ length: 51 }, (_, i) => ({
          name: `P${i}`,
          type: 'INT',
          default: 1,
        }))),
      'parameterDefinitions',
      /at most 50 elements/,
    );
  });

  it('lists every problem at once', () => {
    const doc = fresh();
    doc.steps[1].name = 'Render';
    doc.parameterDefinitions[0].name = '1Shot';
    render(doc).script.actions.onRun.timeout = -1;
    const problems = problemsOf(doc);
    assert.ok(problems.length >= 3, JSON.stringify(problems));
    assert.throws(() => checkJobTemplate(doc), /the job template is not valid \(\d+ problems\):\n/);
  });
});
