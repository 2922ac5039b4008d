import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DroverError } from '../../src/domain/errors.js';
import { JOB_BOUNDS } from '../../src/domain/job-bounds.js';
import {
  NO_RESOURCES,
  checkName,
  checkValues,
  normaliseDefinition,
  type DefinitionInput,
  type InterfaceField,
} from '../../src/domain/job-type-definition.js';

/** Asserts `fn` throws a VALIDATION DroverError whose message matches `message`. */
function rejects(fn: () => unknown, message: RegExp, field?: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof DroverError, `a DroverError, got ${String(error)}`);
    assert.equal(error.code, 'VALIDATION');
    assert.equal(error.status, 400);
    assert.match(error.message, message);
    if (field !== undefined) assert.equal(error.details?.field, field);
    return true;
  });
}

describe('normaliseDefinition defaults', () => {
  it('an empty definition gets every default', () => {
    assert.deepEqual(normaliseDefinition({}), {
      command: [],
      inputs: [],
      parameters: [],
      outputs: [],
      resources: { cpus: 0, mem: 0, disk: 0, gpus: 0 },
      taskTimeout: 0,
      maxTries: 3,
      priority: 50,
      env: {},
    });
  });

  it('has no progressPattern unless given', () => {
    assert.equal('progressPattern' in normaliseDefinition({ command: ['x'] }), false);
    assert.equal(
      normaliseDefinition({ progressPattern: 'Progress: (\\d+)%' }).progressPattern,
      'Progress: (\\d+)%',
    );
  });

  it('fields are required unless they say otherwise', () => {
    const d = normaliseDefinition({
      inputs: [{ name: 'in', type: 'file' }],
      parameters: [
        { name: 'a', type: 'string' },
        { name: 'b', type: 'integer', required: false },
        { name: 'c', type: 'boolean', required: true, description: 'kept' },
      ],
    });
    assert.deepEqual(d.inputs, [{ name: 'in', type: 'file', required: true }]);
    assert.deepEqual(d.parameters, [
      { name: 'a', type: 'string', required: true },
      { name: 'b', type: 'integer', required: false },
      { name: 'c', type: 'boolean', required: true, description: 'kept' },
    ]);
  });

  it('partial resources are filled with zeros', () => {
    assert.deepEqual(normaliseDefinition({ resources: { cpus: 2, gpus: 1 } }).resources, {
      cpus: 2,
      mem: 0,
      disk: 0,
      gpus: 1,
    });
    assert.deepEqual(NO_RESOURCES, { cpus: 0, mem: 0, disk: 0, gpus: 0 });
  });

  it('keeps given values', () => {
    const input: DefinitionInput = {
      command: ['/bin/echo', '{start}'],
      outputs: [{ name: 'out', type: 'image', pattern: '*.png' }],
      resources: { cpus: 1.5, mem: 1024, disk: 10, gpus: 0 },
      taskTimeout: 60,
      maxTries: 1,
      priority: -5,
      env: { A: 'b' },
    };
    const d = normaliseDefinition(input);
    assert.deepEqual(d.command, ['/bin/echo', '{start}']);
    assert.deepEqual(d.outputs, [{ name: 'out', type: 'image', pattern: '*.png' }]);
    assert.deepEqual(d.resources, { cpus: 1.5, mem: 1024, disk: 10, gpus: 0 });
    assert.equal(d.taskTimeout, 60);
    assert.equal(d.maxTries, 1);
    assert.equal(d.priority, -5);
    assert.deepEqual(d.env, { A: 'b' });
  });

  it('accepts every field type', () => {
    for (const type of [
      'file',
      'string',
      'integer',
      'number',
      'boolean',
      'object',
      'array',
    ] as const) {
      assert.equal(
        normaliseDefinition({ parameters: [{ name: 'p', type }] }).parameters[0]?.type,
        type,
      );
    }
  });
});

describe('normaliseDefinition rejections', () => {
  it('command that is not an array', () => {
    rejects(
      () => normaliseDefinition({ command: 'echo hi' as unknown as string[] }),
      /command must be an array of strings/,
      'command',
    );
  });

  it('command with a non-string argument', () => {
    rejects(
      () => normaliseDefinition({ command: ['echo', 3 as unknown as string] }),
      /command must be an array of strings/,
      'command',
    );
  });

  it('field names that are not names', () => {
    for (const name of ['', '-x', '.x', 'a b', 'a/b', 'x'.repeat(101), 5 as unknown as string]) {
      rejects(
        () => normaliseDefinition({ inputs: [{ name, type: 'file' }] }),
        /input name must be 1-100/,
        'input name',
      );
      rejects(
        () => normaliseDefinition({ parameters: [{ name, type: 'string' }] }),
        /parameter name must be 1-100/,
        'parameter name',
      );
    }
    // 100 characters is still fine
    assert.equal(
      normaliseDefinition({ inputs: [{ name: 'x'.repeat(100), type: 'file' }] }).inputs.length,
      1,
    );
  });

  it('a name used twice in one list', () => {
    rejects(
      () =>
        normaliseDefinition({
          parameters: [
            { name: 'p', type: 'string' },
            { name: 'p', type: 'integer' },
          ],
        }),
      /parameter name "p" is used twice/,
    );
  });

  it('a name used by both an input and a parameter', () => {
    rejects(
      () =>
        normaliseDefinition({
          inputs: [{ name: 'x', type: 'file' }],
          parameters: [{ name: 'x', type: 'string' }],
        }),
      /parameter name "x" is used twice/,
    );
  });

  it('an unknown field type', () => {
    rejects(
      () => normaliseDefinition({ inputs: [{ name: 'f', type: 'blob' as 'file' }] }),
      /input "f" has type "blob"; use one of file, string, integer, number, boolean, object, array/,
    );
  });

  for (const key of ['cpus', 'mem', 'disk', 'gpus'] as const) {
    it(`resources.${key} negative, NaN, past 1e12 or not a number`, () => {
      for (const value of [
        -1,
        Number.NaN,
        1e20,
        '2' as unknown as number,
        null as unknown as number,
      ]) {
        rejects(
          () => normaliseDefinition({ resources: { [key]: value } }),
          new RegExp(`resources\\.${key} must be a number from 0 to 1000000000000`),
          `resources.${key}`,
        );
      }
    });
  }

  it('an output name that is not a name', () => {
    rejects(
      () => normaliseDefinition({ outputs: [{ name: 'bad name', type: 'x' }] }),
      /output name must be/,
      'output name',
    );
  });

  // The job's own ranges (job-bounds.ts): a definition's values are its jobs' defaults.
  const range = (field: keyof typeof JOB_BOUNDS) =>
    new RegExp(
      `${field} must be a whole number from ${JOB_BOUNDS[field].minimum} to ${JOB_BOUNDS[field].maximum}`,
    );

  it('taskTimeout negative, past its bound or not an integer', () => {
    for (const value of [-1, 1.5, 3e9, '5' as unknown as number]) {
      rejects(
        () => normaliseDefinition({ taskTimeout: value }),
        range('taskTimeout'),
        'taskTimeout',
      );
    }
  });

  it('maxTries below 1, past its bound or not an integer', () => {
    for (const value of [0, -3, 2.5, 3e9]) {
      rejects(() => normaliseDefinition({ maxTries: value }), range('maxTries'), 'maxTries');
    }
  });

  it('priority past its bound or not an integer', () => {
    for (const value of [1.5, Number.NaN, 3e9, -3e9]) {
      rejects(() => normaliseDefinition({ priority: value }), range('priority'), 'priority');
    }
  });

  it('parts of the wrong shape: lists, outputs, env, progressPattern', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ inputs: 5 }, /inputs must be a list of objects/],
      [{ parameters: [1] }, /parameters must be a list of objects/],
      [{ outputs: 'o' }, /outputs must be a list of objects/],
      [{ outputs: [{ name: 'o', type: 3 }] }, /output "o" must have a type/],
      [{ outputs: [{ name: 'o', type: 'x', pattern: 1 }] }, /pattern must be a string/],
      [{ inputs: [{ name: 'i', type: 'file', required: 'yes' }] }, /required must be a boolean/],
      [{ env: { A: 1 } }, /env must be an object of strings/],
      [{ resources: [] }, /resources must be a JSON object/],
      [{ progressPattern: 5 }, /progressPattern must be a string/],
    ];
    for (const [input, message] of cases) {
      rejects(() => normaliseDefinition(input as never), message);
    }
  });

  it('progressPattern that is not a regular expression', () => {
    rejects(
      () => normaliseDefinition({ progressPattern: '(' }),
      /progressPattern is not a regular expression/,
    );
  });
});

describe('checkName', () => {
  it('returns a good name and rejects a bad one, naming the field', () => {
    assert.equal(checkName('name', 'a.b_c-1'), 'a.b_c-1');
    rejects(() => checkName('name', '_a'), /name must be 1-100/, 'name');
  });
});

describe('checkValues', () => {
  const field = (
    type: InterfaceField['type'],
    extra: Partial<InterfaceField> = {},
  ): InterfaceField => ({
    name: 'v',
    type,
    required: true,
    ...extra,
  });

  it('a required value must be present (null counts as missing)', () => {
    rejects(
      () => checkValues('parameter', [field('string')], {}),
      /parameter "v" is required/,
      'v',
    );
    rejects(() => checkValues('input', [field('file')], { v: null }), /input "v" is required/, 'v');
    rejects(
      () => checkValues('input', [field('file')], { v: undefined }),
      /input "v" is required/,
      'v',
    );
  });

  it('an optional value may be left out or null', () => {
    checkValues('parameter', [field('string', { required: false })], {});
    checkValues('parameter', [field('string', { required: false })], { v: null });
  });

  it('an optional value that is given must still have its type', () => {
    rejects(
      () => checkValues('parameter', [field('integer', { required: false })], { v: 'x' }),
      /parameter "v" must be an integer/,
    );
  });

  const cases: Array<{
    type: InterfaceField['type'];
    multiple?: boolean;
    good: unknown[];
    bad: unknown[];
    says: RegExp;
  }> = [
    {
      type: 'file',
      good: ['/a/b', 7, ''],
      bad: [1.5, true, ['a'], {}],
      says: /must be a file id or path/,
    },
    {
      type: 'file',
      multiple: true,
      good: [[], ['a', 2], [3]],
      bad: ['a', 3, ['a', 1.5], [true], {}],
      says: /must be a list of file ids or paths/,
    },
    { type: 'string', good: ['', 'x'], bad: [1, true, ['x'], {}], says: /must be a string/ },
    {
      type: 'integer',
      good: [0, -3, 2 ** 40],
      bad: [1.5, '1', Number.NaN, true],
      says: /must be an integer/,
    },
    {
      type: 'number',
      good: [0, 1.5, -2],
      bad: ['1', Number.NaN, Number.POSITIVE_INFINITY, true],
      says: /must be a number/,
    },
    { type: 'boolean', good: [true, false], bad: [0, 'true', []], says: /must be a boolean/ },
    {
      type: 'object',
      good: [{}, { a: 1 }],
      bad: [[], 'x', 1, true],
      says: /must be a JSON object/,
    },
    { type: 'array', good: [[], [1, 'a']], bad: [{}, 'x', 1], says: /must be an array/ },
  ];
  for (const c of cases) {
    it(`type ${c.type}${c.multiple ? ' (multiple)' : ''}`, () => {
      const f = field(c.type, c.multiple ? { multiple: true } : {});
      for (const value of c.good) checkValues('input', [f], { v: value });
      for (const value of c.bad) {
        rejects(() => checkValues('input', [f], { v: value }), c.says, 'v');
      }
    });
  }

  it('an unknown name is refused, listing the known ones', () => {
    rejects(
      () =>
        checkValues(
          'parameter',
          [field('string'), { name: 'w', type: 'string', required: false }],
          { v: 'x', z: 1 },
        ),
      /unknown parameter "z"; this job type takes v, w/,
      'z',
    );
    rejects(
      () => checkValues('input', [], { z: 1 }),
      /unknown input "z"; this job type takes none/,
      'z',
    );
  });

  it('no fields and no values is fine', () => {
    checkValues('input', [], {});
  });
});
