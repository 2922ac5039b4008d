import { childFields, normaliseChildren, type ChildJob } from './child-jobs.js';
import { invalid } from './errors.js';
import { JOB_BOUNDS, type BoundedJobField } from './job-bounds.js';
import { checkRetryDelay, type RetryDelay } from './retry-delay.js';
import { checkRetryRules, type RetryRule } from './retry-rules.js';

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
  /** The retry delay of its jobs that give none (retry-delay.ts); none when absent. */
  retryDelay?: RetryDelay;
  /** Whether and where a failed task is retried, by exit code and category (retry-rules.ts). */
  retryRules?: RetryRule[];
  priority: number;
  /** A regular expression whose first group is a percentage, read from the task's output. */
  progressPattern?: string;
  env: Record<string, string>;
  /** A composite type (src/domain/child-jobs.ts): its jobs are parents of these. */
  children?: ChildJob[];
}

/**
 * The file outputs a finished task must have uploaded, non-empty (the output rules,
 * docs/scheduling.md#output-rules): each output with a pattern, unless it is not required.
 */
export function requiredFileOutputs(
  definition: Pick<JobTypeDefinition, 'outputs'>,
): { name: string; pattern: string }[] {
  return (definition.outputs ?? [])
    .filter((o) => o.pattern !== undefined && o.required !== false)
    .map((o) => ({ name: o.name, pattern: o.pattern! }));
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
  /**
   * With a pattern: whether a task that finishes well must have uploaded a non-empty file
   * matching it (default true; docs/scheduling.md#output-rules).
   */
  required?: boolean;
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

/**
 * Whether a job asking these per task is placed by capacity (the sum over a node's running
 * tasks must fit the node) rather than by slots alone. Disk is scratch space checked per
 * task, not summed.
 */
export function usesCapacity(r: Resources): boolean {
  return r.cpus > 0 || r.mem > 0 || r.gpus > 0;
}

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
  Omit<
    JobTypeDefinition,
    'inputs' | 'parameters' | 'resources' | 'children' | 'retryDelay' | 'retryRules'
  >
> & {
  retryDelay?: unknown;
  retryRules?: unknown;
  children?: unknown;
  inputs?: FieldInput[];
  parameters?: FieldInput[];
  resources?: Partial<Resources>;
};
export type FieldInput = Omit<InterfaceField, 'required'> & { required?: boolean };

/** Resource amounts a definition may ask for: finite, and within what any column holds. */
export const MAX_RESOURCE = 1e12;

/**
 * Fills defaults and rejects a definition the engine could not run. Every face that defines
 * job types comes here (native, Scale manifests, UFDL template imports), and not all of
 * them have a schema in front, so each part's shape is checked, not assumed: a number
 * where a list belongs was a TypeError (500), and an output type that was no string was
 * stored and broke every later read of UFDL's job types (found by the fuzz).
 */
export function normaliseDefinition(input: DefinitionInput): JobTypeDefinition {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw invalid('definition must be a JSON object', { field: 'definition' });
  }
  const command = input.command ?? [];
  if (!Array.isArray(command) || command.some((a) => typeof a !== 'string')) {
    throw invalid('command must be an array of strings', { field: 'command' });
  }
  const seen = new Set<string>();
  const fields = (list: unknown, kind: string): InterfaceField[] =>
    listOf<FieldInput>(list, `${kind}s`).map((f) => {
      checkName(`${kind} name`, f.name);
      if (seen.has(f.name)) throw invalid(`${kind} name "${f.name}" is used twice`);
      seen.add(f.name);
      if (!FIELD_TYPES.includes(f.type)) {
        throw invalid(
          `${kind} "${f.name}" has type ${JSON.stringify(f.type)}; use one of ${FIELD_TYPES.join(', ')}`,
        );
      }
      optional(f, 'required', 'boolean', `${kind} "${f.name}"`);
      optional(f, 'multiple', 'boolean', `${kind} "${f.name}"`);
      optional(f, 'description', 'string', `${kind} "${f.name}"`);
      return { ...f, required: f.required ?? true };
    });
  if (input.resources !== undefined && !isRecord(input.resources)) {
    throw invalid('resources must be a JSON object', { field: 'resources' });
  }
  const resources = { ...NO_RESOURCES, ...input.resources };
  for (const [key, value] of Object.entries(resources)) {
    if (typeof value !== 'number' || !(value >= 0) || value > MAX_RESOURCE) {
      throw invalid(`resources.${key} must be a number from 0 to ${MAX_RESOURCE}`, {
        field: `resources.${key}`,
      });
    }
  }
  const outputs = listOf<OutputField>(input.outputs, 'outputs').map((o) => {
    checkName('output name', o.name);
    if (typeof o.type !== 'string' || o.type.length === 0) {
      throw invalid(`output "${o.name}" must have a type, a non-empty string`, {
        field: 'outputs',
      });
    }
    optional(o, 'pattern', 'string', `output "${o.name}"`);
    optional(o, 'required', 'boolean', `output "${o.name}"`);
    return o;
  });
  const env = input.env ?? {};
  if (!isRecord(env) || Object.values(env).some((v) => typeof v !== 'string')) {
    throw invalid('env must be an object of strings', { field: 'env' });
  }
  const definition: JobTypeDefinition = {
    command,
    // A composite type's interface is derived from its children (below).
    inputs: input.children === undefined ? fields(input.inputs, 'input') : [],
    parameters: input.children === undefined ? fields(input.parameters, 'parameter') : [],
    outputs,
    resources,
    taskTimeout: bounded('taskTimeout', input.taskTimeout ?? 0),
    maxTries: bounded('maxTries', input.maxTries ?? 3),
    priority: bounded('priority', input.priority ?? 50),
    env,
  };
  if (input.retryDelay !== undefined) {
    const delay = checkRetryDelay(input.retryDelay);
    if (delay.mode !== 'NONE') definition.retryDelay = delay;
  }
  if (input.retryRules !== undefined) {
    const rules = checkRetryRules(input.retryRules);
    if (rules.length > 0) definition.retryRules = rules;
  }
  if (input.progressPattern !== undefined) {
    if (typeof input.progressPattern !== 'string') {
      throw invalid('progressPattern must be a string', { field: 'progressPattern' });
    }
    try {
      new RegExp(input.progressPattern);
    } catch (error) {
      throw invalid(`progressPattern is not a regular expression: ${(error as Error).message}`);
    }
    definition.progressPattern = input.progressPattern;
  }
  if (input.children !== undefined) {
    const children = normaliseChildren(input.children);
    // An exported composite type carries its derived interface; anything else is refused.
    const names = new Set(children.map((c) => c.name));
    const own = [
      ...listOf<FieldInput>(input.inputs, 'inputs'),
      ...listOf<FieldInput>(input.parameters, 'parameters'),
    ];
    if (command.length > 0 || own.some((f) => !names.has(f.name) || f.type !== 'object')) {
      throw invalid(
        'a composite job type (children) has no command, inputs or parameters of its own: each child takes the input and parameter named after it',
        { field: 'children' },
      );
    }
    definition.children = children;
    definition.inputs = childFields(children);
    definition.parameters = childFields(children);
  }
  return definition;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A list of objects, or none; anything else is a 400 naming the field. */
function listOf<T>(value: unknown, field: string): T[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every(isRecord)) {
    throw invalid(`${field} must be a list of objects`, { field });
  }
  return value as T[];
}

function optional(item: object, key: string, type: 'string' | 'boolean', what: string): void {
  const value = (item as Record<string, unknown>)[key];
  if (value !== undefined && typeof value !== type) {
    throw invalid(`${what}: ${key} must be a ${type}`, { field: key });
  }
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

/**
 * A definition's defaults for its jobs take the jobs' own ranges (job-bounds.ts). The
 * native schema states them, but UFDL template imports and Scale manifests reach here
 * without one, and stored a priority of 3e9 (issue 12, point 3).
 */
function bounded(field: BoundedJobField, value: unknown): number {
  const { minimum, maximum } = JOB_BOUNDS[field];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < minimum || value > maximum) {
    throw invalid(
      `${field} must be a whole number from ${minimum} to ${maximum}, got ${JSON.stringify(value)}`,
      { field },
    );
  }
  return value;
}
