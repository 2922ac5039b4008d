import { invalid } from '../../domain/errors.js';

/*
 * Scale's Data JSON (v6) and Job Type Configuration, checked the way Scale checks them: the
 * document's own shape first ("Invalid data: …"), then the values against the job type's
 * Seed interface in interface order ("Parameter 'x' is required"). Pure functions.
 */

export interface DataV6 {
  files: Record<string, number[]>;
  json: Record<string, unknown>;
}

export interface SeedFileInput {
  name: string;
  required?: boolean;
  multiple?: boolean;
  mediaTypes?: string[];
  partial?: boolean;
}
export interface SeedJsonInput {
  name: string;
  type: 'array' | 'boolean' | 'integer' | 'number' | 'object' | 'string';
  required?: boolean;
}
export interface SeedInputs {
  files?: SeedFileInput[];
  json?: SeedJsonInput[];
}

export interface JobConfiguration {
  mounts: Record<string, unknown>;
  output_workspaces: { default?: string; outputs: Record<string, string> };
  priority: number;
  settings: Record<string, string>;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const py = (v: unknown): string => (typeof v === 'string' ? `'${v}'` : JSON.stringify(v));

function badData(message: string): never {
  throw invalid(`Invalid data: ${message}`, { field: 'input' });
}

/** Parses Data JSON v6 (or converts legacy v1.0); throws "Invalid data: …". */
export function parseData(input: unknown): DataV6 {
  if (input === undefined || input === null) return { files: {}, json: {} };
  if (!isObject(input)) badData(`${py(input)} is not of type 'object'`);
  const version = input.version;
  if (version !== undefined && version !== '6' && version !== '7') {
    if (version === '1.0') return fromLegacy(input);
    badData(`${py(version)} is not one of ['6', '7']`);
  }
  for (const key of Object.keys(input)) {
    if (!['version', 'files', 'json'].includes(key)) {
      badData(`Additional properties are not allowed (${py(key)} was unexpected)`);
    }
  }
  const files = input.files ?? {};
  if (!isObject(files)) badData(`${py(files)} is not of type 'object'`);
  const out: DataV6 = { files: {}, json: {} };
  for (const [name, ids] of Object.entries(files)) {
    if (!Array.isArray(ids)) badData(`${py(ids)} is not of type 'array'`);
    if (ids.length === 0) badData('[] is too short');
    for (const id of ids) if (!Number.isInteger(id)) badData(`${py(id)} is not of type 'integer'`);
    out.files[name] = ids as number[];
  }
  const json = input.json ?? {};
  if (!isObject(json)) badData(`${py(json)} is not of type 'object'`);
  out.json = { ...json };
  return out;
}

function fromLegacy(input: Record<string, unknown>): DataV6 {
  const out: DataV6 = { files: {}, json: {} };
  const entries = input.input_data ?? [];
  if (!Array.isArray(entries)) badData(`${py(entries)} is not of type 'array'`);
  for (const entry of entries) {
    if (!isObject(entry) || typeof entry.name !== 'string')
      badData("'name' is a required property");
    if (entry.file_id !== undefined) out.files[entry.name] = [entry.file_id as number];
    else if (entry.file_ids !== undefined) out.files[entry.name] = entry.file_ids as number[];
    else out.json[entry.name] = entry.value;
  }
  return parseData({ files: out.files, json: out.json });
}

function badParameter(message: string): never {
  throw invalid(message, { field: 'input' });
}

/** Seed's json types, checked the same way for the inputs and the outputs of a job. */
export const JSON_TYPE_CHECK: Record<SeedJsonInput['type'], [(v: unknown) => boolean, string]> = {
  array: [Array.isArray, 'an array'],
  boolean: [(v) => typeof v === 'boolean', 'a boolean'],
  integer: [Number.isInteger, 'an integer'],
  number: [(v) => typeof v === 'number' && Number.isFinite(v), 'a number'],
  object: [isObject, 'a JSON object'],
  string: [(v) => typeof v === 'string', 'a string'],
};

/**
 * Checks data against a Seed input interface, in interface order (files, then json).
 * Values the interface does not name are dropped, as Scale drops them.
 */
export function validateAgainstInterface(data: DataV6, inputs: SeedInputs): DataV6 {
  const out: DataV6 = { files: {}, json: {} };
  for (const f of inputs.files ?? []) {
    const ids = data.files[f.name];
    if (ids === undefined) {
      if (f.name in data.json) {
        badParameter(`Parameter '${f.name}' of type 'file' cannot accept data of type 'json'`);
      }
      if (f.required ?? true) badParameter(`Parameter '${f.name}' is required`);
      continue;
    }
    if (!(f.multiple ?? false) && ids.length > 1) {
      badParameter(`Parameter '${f.name}' cannot accept multiple files`);
    }
    out.files[f.name] = ids;
  }
  for (const j of inputs.json ?? []) {
    if (!(j.name in data.json)) {
      if (j.name in data.files) {
        badParameter(`Parameter '${j.name}' of type 'json' cannot accept data of type 'file'`);
      }
      if (j.required ?? true) badParameter(`Parameter '${j.name}' is required`);
      continue;
    }
    const value = data.json[j.name];
    const [check, described] = JSON_TYPE_CHECK[j.type];
    if (!check(value)) badParameter(`Parameter '${j.name}' must receive ${described}`);
    out.json[j.name] = value;
  }
  return out;
}

function badConfiguration(message: string): never {
  throw invalid(`Job type configuration invalid: ${message}`, { field: 'configuration' });
}

/** Merges a configuration over the job type's and checks it (Job Type Configuration v6). */
export function mergeConfiguration(base: JobConfiguration, given: unknown): JobConfiguration {
  if (given === undefined || given === null) return base;
  if (!isObject(given))
    badConfiguration(`Invalid configuration: ${py(given)} is not of type 'object'`);
  const version = given.version;
  if (version !== undefined && !['6', '7', '2.0'].includes(String(version))) {
    badConfiguration(`Invalid configuration version: ${String(version)}`);
  }
  for (const key of Object.keys(given)) {
    if (!['version', 'mounts', 'output_workspaces', 'priority', 'settings'].includes(key)) {
      badConfiguration(
        `Invalid configuration: Additional properties are not allowed (${py(key)} was unexpected)`,
      );
    }
  }
  const merged: JobConfiguration = {
    mounts: { ...base.mounts },
    output_workspaces: {
      ...base.output_workspaces,
      outputs: { ...base.output_workspaces.outputs },
    },
    priority: base.priority,
    settings: { ...base.settings },
  };
  if (given.priority !== undefined) {
    if (!Number.isInteger(given.priority)) {
      badConfiguration(`Invalid configuration: ${py(given.priority)} is not of type 'integer'`);
    }
    if ((given.priority as number) < 1) {
      badConfiguration(
        `Invalid configuration: ${given.priority as number} is less than the minimum of 1`,
      );
    }
    merged.priority = given.priority as number;
  }
  for (const key of ['mounts', 'settings', 'output_workspaces'] as const) {
    const value = given[key];
    if (value !== undefined && !isObject(value)) {
      badConfiguration(`Invalid configuration: ${py(value)} is not of type 'object'`);
    }
  }
  Object.assign(merged.mounts, given.mounts ?? {});
  for (const [name, value] of Object.entries((given.settings ?? {}) as Record<string, unknown>)) {
    if (typeof value !== 'string' && value !== null) {
      badConfiguration(`Invalid configuration: ${py(value)} is not of type 'string'`);
    }
    if (typeof value === 'string') merged.settings[name] = value;
  }
  const workspaces = (given.output_workspaces ?? {}) as Record<string, unknown>;
  if (typeof workspaces.default === 'string') merged.output_workspaces.default = workspaces.default;
  if (isObject(workspaces.outputs)) {
    Object.assign(merged.output_workspaces.outputs, workspaces.outputs);
  }
  return merged;
}

export const DEFAULT_CONFIGURATION: JobConfiguration = {
  mounts: {},
  output_workspaces: { outputs: {} },
  priority: 100,
  settings: {},
};
