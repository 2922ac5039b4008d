import { invalid } from './errors.js';

/**
 * What a job type says about its jobs. A revision pins one of these; a job runs with the
 * revision it was submitted against even after the type is revised.
 */
export interface JobTypeDefinition {
  /**
   * The command as an argument array. Tokens in braces are filled in per task by the worker:
   * {start} {end} {frames} {frame_list}, {input.NAME}, {param.NAME}, {output_dir}; an array
   * parameter written alone as `{param.NAME...}` expands into several arguments.
   */
  command: string[];
  inputs: InterfaceField[];
  parameters: InterfaceField[];
  outputs: OutputField[];
  resources: Resources;
  /** Seconds a task may run before it is killed; 0 means no limit. */
  taskTimeout: number;
  maxTries: number;
  priority: number;
  /** A regular expression whose first group is a percentage, read from the task's output. */
  progressPattern?: string;
  env: Record<string, string>;
}

export const FIELD_TYPES = [
  'file',
  'string',
  'integer',
  'number',
  'boolean',
  'object',
  'array',
] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

export interface InterfaceField {
  name: string;
  type: FieldType;
  required: boolean;
  /** For files: whether several may be given. */
  multiple?: boolean;
  description?: string;
}

export interface OutputField {
  name: string;
  type: string;
  /** A glob, relative to the output directory, of the files this output collects. */
  pattern?: string;
}

export interface Resources {
  cpus: number;
  /** MiB. */
  mem: number;
  /** MiB. */
  disk: number;
  gpus: number;
}

export const NO_RESOURCES: Resources = { cpus: 0, mem: 0, disk: 0, gpus: 0 };

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export function checkName(what: string, name: unknown): string {
  if (typeof name !== 'string' || !NAME.test(name) || name.length > 100) {
    throw invalid(
      `${what} must be 1-100 letters, digits, '-', '_' or '.', starting with a letter or digit; got ${JSON.stringify(name)}`,
      { field: what },
    );
  }
  return name;
}

/** A definition as submitted: everything but the command may be left to its default. */
export type DefinitionInput = Partial<
  Omit<JobTypeDefinition, 'inputs' | 'parameters' | 'resources'>
> & {
  inputs?: FieldInput[];
  parameters?: FieldInput[];
  resources?: Partial<Resources>;
};
export type FieldInput = Omit<InterfaceField, 'required'> & { required?: boolean };

/** Fills defaults and rejects a definition the engine could not run. */
export function normaliseDefinition(input: DefinitionInput): JobTypeDefinition {
  const command = input.command ?? [];
  if (!Array.isArray(command) || command.some((a) => typeof a !== 'string')) {
    throw invalid('command must be an array of strings', { field: 'command' });
  }
  const seen = new Set<string>();
  const fields = (list: FieldInput[] | undefined, kind: string): InterfaceField[] =>
    (list ?? []).map((f) => {
      checkName(`${kind} name`, f.name);
      if (seen.has(f.name)) throw invalid(`${kind} name "${f.name}" is used twice`);
      seen.add(f.name);
      if (!FIELD_TYPES.includes(f.type)) {
        throw invalid(
          `${kind} "${f.name}" has type "${f.type}"; use one of ${FIELD_TYPES.join(', ')}`,
        );
      }
      return { ...f, required: f.required ?? true };
    });
  const resources = { ...NO_RESOURCES, ...input.resources };
  for (const [key, value] of Object.entries(resources)) {
    if (typeof value !== 'number' || !(value >= 0)) {
      throw invalid(`resources.${key} must be a number >= 0`, { field: `resources.${key}` });
    }
  }
  const definition: JobTypeDefinition = {
    command,
    inputs: fields(input.inputs, 'input'),
    parameters: fields(input.parameters, 'parameter'),
    outputs: (input.outputs ?? []).map((o) => ({ ...o, name: checkName('output name', o.name) })),
    resources,
    taskTimeout: nonNegativeInteger('taskTimeout', input.taskTimeout ?? 0),
    maxTries: positiveInteger('maxTries', input.maxTries ?? 3),
    priority: integer('priority', input.priority ?? 50),
    env: input.env ?? {},
  };
  if (input.progressPattern !== undefined) {
    try {
      new RegExp(input.progressPattern);
    } catch (error) {
      throw invalid(`progressPattern is not a regular expression: ${(error as Error).message}`);
    }
    definition.progressPattern = input.progressPattern;
  }
  return definition;
}

/** Checks submitted values against an interface: required present, each of its type. */
export function checkValues(
  kind: 'input' | 'parameter',
  fields: readonly InterfaceField[],
  values: Record<string, unknown>,
): void {
  for (const field of fields) {
    const value = values[field.name];
    if (value === undefined || value === null) {
      if (field.required)
        throw invalid(`${kind} "${field.name}" is required`, { field: field.name });
      continue;
    }
    if (!matchesType(field, value)) {
      throw invalid(`${kind} "${field.name}" must be ${describeType(field)}`, {
        field: field.name,
      });
    }
  }
  const known = new Set(fields.map((f) => f.name));
  for (const name of Object.keys(values)) {
    if (!known.has(name)) {
      throw invalid(
        `unknown ${kind} "${name}"; this job type takes ${[...known].join(', ') || 'none'}`,
        {
          field: name,
        },
      );
    }
  }
}

function matchesType(field: InterfaceField, value: unknown): boolean {
  switch (field.type) {
    case 'file':
      return field.multiple
        ? Array.isArray(value) && value.every((v) => typeof v === 'string' || Number.isInteger(v))
        : typeof value === 'string' || Number.isInteger(value);
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'object':
      return typeof value === 'object' && !Array.isArray(value);
    case 'array':
      return Array.isArray(value);
  }
}

function describeType(field: InterfaceField): string {
  if (field.type === 'file')
    return field.multiple ? 'a list of file ids or paths' : 'a file id or path';
  return {
    string: 'a string',
    integer: 'an integer',
    number: 'a number',
    boolean: 'a boolean',
    object: 'a JSON object',
    array: 'an array',
  }[field.type];
}

function integer(field: string, value: unknown): number {
  if (!Number.isInteger(value)) throw invalid(`${field} must be an integer`, { field });
  return value as number;
}
function nonNegativeInteger(field: string, value: unknown): number {
  const n = integer(field, value);
  if (n < 0) throw invalid(`${field} must be >= 0`, { field });
  return n;
}
function positiveInteger(field: string, value: unknown): number {
  const n = integer(field, value);
  if (n < 1) throw invalid(`${field} must be >= 1`, { field });
  return n;
}
