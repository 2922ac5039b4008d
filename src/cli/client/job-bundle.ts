import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import YAML from 'yaml';
import { CliError } from './api-client.js';
import { err } from './command-support.js';

/*
 * A Deadline Cloud job bundle folder read into an OpenJD submission (docs/openjd.md,
 * "Job bundles"): template.yaml|json, the saved values of parameter_values.yaml|json, and
 * the -p values given on the command line, which win.
 *
 * Relative PATH values are made absolute here, on the submitting machine, as Deadline's own
 * client does: a value from the bundle (a default or a saved value) is relative to the bundle
 * folder, a value typed on the command line to the current directory. A PATH parameter with
 * allowedValues is left as it is: its value must match one of them exactly.
 */

type Body = Record<string, unknown>;

interface ParameterDefinition {
  name: string;
  type: string;
  default?: unknown;
  allowedValues?: unknown;
}

/**
 * The `deadline:*` queue settings that Deadline's submitter saves beside the job parameters,
 * and the submission fields they become. Any other `deadline:` name is refused, never dropped.
 */
const DEADLINE_SETTINGS: Record<string, (value: unknown, where: string) => Body> = {
  'deadline:priority': (value, where) => ({ priority: integerOf(value, where) }),
  'deadline:maxRetriesPerTask': (value, where) => ({ maxTries: integerOf(value, where) + 1 }),
  'deadline:targetTaskRunStatus': (value, where) => {
    if (value === 'READY') return {};
    if (value === 'SUSPENDED') return { initialState: 'SUSPENDED' };
    throw new CliError(`${where} must be READY or SUSPENDED, not ${JSON.stringify(value)}`);
  },
};

function integerOf(value: unknown, where: string): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n)) {
    throw new CliError(`${where} must be an integer, not ${JSON.stringify(value)}`);
  }
  return n;
}

/** `<dir>/<base>.yaml`, `.yml` or `.json`, parsed; undefined when there is none. */
function readBundleFile(
  dir: string,
  base: string,
): { path: string; text: string; value: unknown } | undefined {
  const found = ['yaml', 'yml', 'json']
    .map((ext) => join(dir, `${base}.${ext}`))
    .filter((path) => existsSync(path));
  if (found.length === 0) return undefined;
  if (found.length > 1) {
    throw new CliError(`the job bundle holds both ${found.join(' and ')}; keep one`);
  }
  const path = found[0]!;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    const value: unknown = path.endsWith('.json') ? JSON.parse(text) : YAML.parse(text);
    return { path, text, value };
  } catch (error) {
    const kind = path.endsWith('.json') ? 'JSON' : 'YAML';
    throw new CliError(`${path} is not valid ${kind}: ${(error as Error).message}`);
  }
}

function isObject(value: unknown): value is Body {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The template's parameter definitions, as far as the bundle needs them (the server checks the rest). */
function definitionsOf(template: unknown, path: string): Map<string, ParameterDefinition> {
  if (!isObject(template)) throw new CliError(`${path} must hold a job template object`);
  const list = template.parameterDefinitions ?? [];
  if (!Array.isArray(list)) throw new CliError(`${path}: parameterDefinitions must be a list`);
  const byName = new Map<string, ParameterDefinition>();
  for (const def of list) {
    if (isObject(def) && typeof def.name === 'string' && typeof def.type === 'string') {
      byName.set(def.name, def as unknown as ParameterDefinition);
    }
  }
  return byName;
}

/** parameterValues: [{name, value}] as a list of pairs, in order. */
function savedValues(file: { path: string; value: unknown }): [string, unknown][] {
  const where = `${file.path}: parameterValues`;
  if (!isObject(file.value))
    throw new CliError(`${file.path} must hold an object with parameterValues`);
  const list = file.value.parameterValues ?? [];
  if (!Array.isArray(list)) throw new CliError(`${where} must be a list of {name, value}`);
  return list.map((item, i) => {
    if (!isObject(item) || typeof item.name !== 'string' || !('value' in item)) {
      throw new CliError(`${where}[${i}] must be an object with a name and a value`);
    }
    return [item.name, item.value];
  });
}

function unknownName(
  name: string,
  where: string,
  defs: Map<string, ParameterDefinition>,
): CliError {
  const known = [...defs.keys()];
  return new CliError(
    `${where}: the template defines no job parameter "${name}"` +
      (known.length ? ` (it defines ${known.join(', ')})` : ' (it defines none)'),
  );
}

function absolutePath(def: ParameterDefinition, value: unknown, base: string): unknown {
  if (def.type !== 'PATH' || def.allowedValues !== undefined) return value;
  if (typeof value !== 'string' || value === '' || isAbsolute(value)) return value;
  return resolve(base, value);
}

/**
 * The submission for a bundle folder: `template` (the file's text, sent unchanged),
 * `parameters`, and the fields the `deadline:*` settings set. `overrides` are the `-p`
 * values, already split into name and value; `cwd` is where relative ones are from.
 */
export function readJobBundle(dir: string, overrides: Record<string, unknown>, cwd: string): Body {
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    // Reported just below, with the path as given.
  }
  if (!isDir) throw new CliError(`the job bundle ${dir} is not a folder`);
  const template = readBundleFile(dir, 'template');
  if (!template) {
    throw new CliError(`the job bundle ${dir} has no template.yaml or template.json`);
  }
  const defs = definitionsOf(template.value, template.path);
  const parameters: Body = {};
  let settings: Body = {};

  const values = readBundleFile(dir, 'parameter_values');
  for (const [name, value] of values ? savedValues(values) : []) {
    const where = `${values!.path}: ${name}`;
    if (name.includes(':')) {
      const setting = DEADLINE_SETTINGS[name];
      if (!setting) {
        throw new CliError(
          `${where}: Drover does not take this setting (it takes ${Object.keys(DEADLINE_SETTINGS).join(', ')})`,
        );
      }
      settings = { ...settings, ...setting(value, where) };
      continue;
    }
    const def = defs.get(name);
    if (!def) throw unknownName(name, values!.path, defs);
    parameters[name] = absolutePath(def, value, dir);
  }
  // Relative defaults are relative to the bundle, as in Deadline; only a default that is
  // used is resolved, so that the template itself stays unchanged.
  for (const def of defs.values()) {
    if (!(def.name in parameters) && def.default !== undefined) {
      const resolved = absolutePath(def, def.default, dir);
      if (resolved !== def.default) parameters[def.name] = resolved;
    }
  }
  for (const [name, value] of Object.entries(overrides)) {
    const def = defs.get(name);
    if (!def) throw unknownName(name, '-p', defs);
    parameters[name] = absolutePath(def, value, cwd);
  }
  for (const ext of ['yaml', 'yml', 'json']) {
    const path = join(dir, `asset_references.${ext}`);
    // Job attachments move files through Deadline's S3 bucket; Drover's workers see the
    // paths themselves, so the file has nothing to do here. Said, not silently skipped.
    if (existsSync(path))
      err(`drover: note: ${path} is not read (Drover has no job attachments)\n`);
  }
  return { template: template.text, parameters, ...settings };
}
