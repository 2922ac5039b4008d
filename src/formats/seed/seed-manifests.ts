import { DroverError, invalid } from '../../domain/errors.js';
import { INT32_MAX, INT32_MIN } from '../../domain/job-bounds.js';
import type { DefinitionInput, FieldInput } from '../../domain/job-type-definition.js';
import { priorityFromScale } from '../../domain/priority.js';
import { inTransaction, type EngineContext } from '../../engine/context.js';
import { createJobType, reviseJobType } from '../../engine/job-types/job-types.js';
import { upsertJobTypeErrors } from '../../store/job-type-errors.js';
import { findJobTypeByName } from '../../store/job-types.js';
import type { JobTypeRow } from '../../store/schema.js';
import {
  DEFAULT_CONFIGURATION,
  mergeConfiguration,
  type JobConfiguration,
  type SeedInputs,
  type SeedJsonInput,
} from './seed-data.js';

/*
 * Scale job types are registered from Seed manifests. A manifest becomes a Drover job type
 * (name = job.name, version = job.jobVersion) whose command runs the manifest's
 * interface.command under /bin/sh, so `drover worker` runs it like any other job:
 *
 *   ["/bin/sh", "-c", "A=\"$1\" B=\"$2\" OUTPUT_DIR=\"$3\"; export A B OUTPUT_DIR; <command>",
 *    "seed", "{input.A}", "{param.B}", "{output_dir}"]
 *
 * Every Seed input becomes an environment variable named after it (as Seed promises), so
 * the command's ${A} tokens expand there, also inside nested `sh -c '…'`. Values travel as
 * arguments, never spliced into the script, so a path with spaces or quotes stays one
 * value. A name that is no shell identifier (a-b) has its ${a-b} tokens rewritten to the
 * positional parameter. File inputs carry the registered file's path (several: joined by
 * spaces), json inputs their value (non-strings as JSON text).
 */

export interface SeedManifest {
  seedVersion: string;
  job: {
    name: string;
    jobVersion: string;
    packageVersion: string;
    title: string;
    description: string;
    maintainer: Record<string, unknown>;
    timeout: number;
    tags?: string[];
    resources?: { scalar?: { name: string; value: number; inputMultiplier?: number }[] };
    interface?: {
      command?: string;
      inputs?: SeedInputs;
      outputs?: {
        files?: {
          name: string;
          pattern: string;
          mediaType?: string;
          multiple?: boolean;
          required?: boolean;
        }[];
        json?: { name: string; type: SeedJsonInput['type']; key?: string; required?: boolean }[];
      };
      mounts?: { name: string; path: string; mode?: string }[];
      settings?: { name: string; secret?: boolean }[];
    };
    errors?: {
      code: number;
      name: string;
      title?: string;
      description?: string;
      category?: string;
    }[];
  };
}

/** Scale's floor for each resource; a job type never asks for less. */
export const RESOURCE_MINIMUMS: Record<string, number> = { cpus: 0.25, mem: 128, disk: 0 };

const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function bad(message: string): never {
  throw invalid(`Seed Manifest invalid: ${message}`, { field: 'manifest' });
}

function requireKeys(object: Record<string, unknown>, keys: string[]): void {
  for (const key of keys) if (object[key] === undefined) bad(`'${key}' is a required property`);
}

function namedList(list: unknown, what: string, required: string[]): Record<string, unknown>[] {
  if (list === undefined) return [];
  if (!Array.isArray(list)) bad(`${what} is not of type 'array'`);
  return list.map((item) => {
    if (!isObject(item)) bad(`${JSON.stringify(item)} is not of type 'object'`);
    requireKeys(item, required);
    if (typeof item.name !== 'string' || !/^[a-zA-Z0-9_-]+$/.test(item.name)) {
      bad(`${JSON.stringify(item.name)} does not match '^[a-zA-Z0-9_-]+$'`);
    }
    return item;
  });
}

/** Checks a Seed manifest as Scale's schema does; throws "Seed Manifest invalid: …". */
export function validateManifest(manifest: unknown): SeedManifest {
  if (!isObject(manifest)) bad(`${JSON.stringify(manifest)} is not of type 'object'`);
  requireKeys(manifest, ['seedVersion', 'job']);
  if (manifest.seedVersion !== '1.0.0')
    bad(`'${String(manifest.seedVersion)}' does not match '^1\\.0\\.0$'`);
  const job = manifest.job;
  if (!isObject(job)) bad(`${JSON.stringify(job)} is not of type 'object'`);
  requireKeys(job, [
    'name',
    'jobVersion',
    'packageVersion',
    'title',
    'description',
    'maintainer',
    'timeout',
  ]);
  if (typeof job.name !== 'string' || !/^[a-zA-Z0-9-]+$/.test(job.name)) {
    bad(`${JSON.stringify(job.name)} does not match '^[a-zA-Z0-9-]+$'`);
  }
  for (const key of ['jobVersion', 'packageVersion']) {
    if (typeof job[key] !== 'string' || !SEMVER.test(job[key])) {
      bad(`${JSON.stringify(job[key])} is not a valid semantic version for '${key}'`);
    }
  }
  for (const key of ['title', 'description']) {
    if (typeof job[key] !== 'string') bad(`${JSON.stringify(job[key])} is not of type 'string'`);
  }
  if (!isObject(job.maintainer)) bad(`${JSON.stringify(job.maintainer)} is not of type 'object'`);
  requireKeys(job.maintainer, ['name', 'email']);
  if (!Number.isInteger(job.timeout))
    bad(`${JSON.stringify(job.timeout)} is not of type 'integer'`);
  const resources = job.resources;
  if (resources !== undefined) {
    if (!isObject(resources)) bad(`${JSON.stringify(resources)} is not of type 'object'`);
    for (const r of namedList(resources.scalar, 'scalar', ['name', 'value'])) {
      if (typeof r.value !== 'number') bad(`${JSON.stringify(r.value)} is not of type 'number'`);
      if (r.inputMultiplier !== undefined && typeof r.inputMultiplier !== 'number') {
        bad(`${JSON.stringify(r.inputMultiplier)} is not of type 'number'`);
      }
      if (r.name === 'gpus' && !Number.isInteger(r.value)) bad('gpus must be a whole number');
    }
  }
  const names = new Set<string>();
  const unique = (name: unknown) => {
    if (names.has(name as string)) bad(`Duplicate name in interface: ${String(name)}`);
    names.add(name as string);
  };
  const iface = job.interface;
  if (iface !== undefined) {
    if (!isObject(iface)) bad(`${JSON.stringify(iface)} is not of type 'object'`);
    if (iface.command !== undefined && typeof iface.command !== 'string') {
      bad(`${JSON.stringify(iface.command)} is not of type 'string'`);
    }
    const inputs = (iface.inputs ?? {}) as Record<string, unknown>;
    const outputs = (iface.outputs ?? {}) as Record<string, unknown>;
    for (const f of namedList(inputs.files, 'files', ['name'])) unique(f.name);
    const jsonType = (j: Record<string, unknown>) => {
      unique(j.name);
      if (
        !['array', 'boolean', 'integer', 'number', 'object', 'string'].includes(j.type as string)
      ) {
        bad(
          `'${String(j.type)}' is not one of ['array', 'boolean', 'integer', 'number', 'object', 'string']`,
        );
      }
    };
    for (const j of namedList(inputs.json, 'json', ['name', 'type'])) jsonType(j);
    for (const f of namedList(outputs.files, 'files', ['name', 'pattern'])) unique(f.name);
    for (const j of namedList(outputs.json, 'json', ['name', 'type'])) jsonType(j);
    for (const m of namedList(iface.mounts, 'mounts', ['name', 'path'])) unique(m.name);
    for (const s of namedList(iface.settings, 'settings', ['name'])) unique(s.name);
  }
  for (const e of namedList(job.errors, 'errors', ['code', 'name'])) {
    if (!Number.isInteger(e.code)) bad(`${JSON.stringify(e.code)} is not of type 'integer'`);
    // An exit code is stored as a 32-bit integer.
    if ((e.code as number) < INT32_MIN || (e.code as number) > INT32_MAX) {
      bad(`${String(e.code)} is out of range for an exit code`);
    }
    // The error's texts become columns: anything but a string was a driver error (500,
    // found by the fuzz), and the name is indexed, so it is kept short.
    if (typeof e.name !== 'string' || e.name.length === 0 || e.name.length > 255) {
      bad(`${JSON.stringify(e.name).slice(0, 100)} is not a string of 1 to 255 characters`);
    }
    for (const key of ['title', 'description'] as const) {
      if (e[key] !== undefined && typeof e[key] !== 'string') {
        bad(`${JSON.stringify(e[key]).slice(0, 100)} is not of type 'string'`);
      }
    }
    if (e.category !== undefined && e.category !== 'data' && e.category !== 'job') {
      bad(`'${String(e.category)}' is not one of ['data', 'job']`);
    }
  }
  return manifest as unknown as SeedManifest;
}

const SHELL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The Drover definition that runs a manifest; see the comment at the top. */
export function definitionFromManifest(
  manifest: SeedManifest,
  configuration: JobConfiguration,
  maxTries: number,
): DefinitionInput {
  const iface = manifest.job.interface ?? {};
  const slots: { name: string; token: string; kind: 'input' | 'parameter' }[] = [
    ...(iface.inputs?.files ?? []).map((f) => ({
      name: f.name,
      token: `{input.${f.name}}`,
      kind: 'input' as const,
    })),
    ...(iface.inputs?.json ?? []).map((j) => ({
      name: j.name,
      token: `{param.${j.name}}`,
      kind: 'parameter' as const,
    })),
    { name: 'OUTPUT_DIR', token: '{output_dir}', kind: 'input' as const },
  ];
  let command = iface.command ?? '';
  const assignments: string[] = [];
  slots.forEach((slot, i) => {
    const position = i + 1;
    if (SHELL_NAME.test(slot.name)) assignments.push(`${slot.name}="\${${position}}"`);
    else command = command.split(`\${${slot.name}}`).join(`"\${${position}}"`);
  });
  const exported = slots.map((s) => s.name).filter((n) => SHELL_NAME.test(n));
  const settings = Object.entries(configuration.settings);
  const script = [
    assignments.length ? `${assignments.join(' ')}; export ${exported.join(' ')}` : '',
    ...settings.filter(([n]) => SHELL_NAME.test(n)).map(([n, v]) => `export ${n}=${shellQuote(v)}`),
    command,
  ]
    .filter(Boolean)
    .join('\n');
  const field = (name: string, required: boolean): FieldInput => ({
    name,
    type: 'string',
    required,
  });
  const resources: Record<string, number> = { cpus: 0, mem: 0, disk: 0, gpus: 0 };
  for (const [name, min] of Object.entries(RESOURCE_MINIMUMS)) resources[name] = min;
  for (const r of manifest.job.resources?.scalar ?? []) {
    if (r.name in resources) resources[r.name] = Math.max(r.value, RESOURCE_MINIMUMS[r.name] ?? 0);
  }
  return {
    command: [
      '/bin/sh',
      '-c',
      script,
      'seed',
      ...slots.slice(0, -1).map((s) => s.token),
      '{output_dir}',
    ],
    inputs: (iface.inputs?.files ?? []).map((f) => field(f.name, false)),
    parameters: (iface.inputs?.json ?? []).map((j) => field(j.name, false)),
    outputs: (iface.outputs?.files ?? []).map((o) => ({
      name: o.name,
      type: 'file',
      pattern: o.pattern,
    })),
    resources: resources as DefinitionInput['resources'],
    taskTimeout: manifest.job.timeout,
    maxTries,
    priority: priorityFromScale(configuration.priority),
    env: {},
  };
}

/** What a Scale job type keeps beside its manifest (in the revision's stored document). */
export interface SeedJobTypeDocument {
  manifest: SeedManifest;
  configuration: JobConfiguration;
  max_tries: number;
  icon_code: string | null;
  is_published: boolean;
  docker_image: string;
}

export interface SeedJobTypeSpec {
  manifest: unknown;
  configuration?: unknown;
  maxTries?: number;
  iconCode?: string | null;
  isPublished?: boolean;
  dockerImage?: string;
}

/**
 * Registers a Seed job type; one of the same name and version gets a new revision instead.
 * The manifest's errors become the job type's own errors (category data ⇒ DATA, else
 * ALGORITHM; never retried), each standing for its exit code (see failExecution).
 */
export async function saveSeedJobType(
  ctx: EngineContext,
  spec: SeedJobTypeSpec,
): Promise<{ type: JobTypeRow; created: boolean }> {
  const manifest = validateManifest(spec.manifest);
  const configuration = mergeConfiguration(DEFAULT_CONFIGURATION, spec.configuration);
  const maxTries = spec.maxTries ?? 3;
  if (!Number.isInteger(maxTries) || maxTries < 1)
    throw invalid('max_tries must be an integer >= 1');
  const job = manifest.job;
  const document: SeedJobTypeDocument = {
    manifest,
    configuration,
    max_tries: maxTries,
    icon_code: spec.iconCode ?? null,
    is_published: spec.isPublished ?? false,
    docker_image: spec.dockerImage ?? `${job.name}-${job.jobVersion}-seed:${job.packageVersion}`,
  };
  const definition = definitionFromManifest(manifest, configuration, maxTries);
  const existing = await findJobTypeByName(ctx.db, job.name, job.jobVersion);
  let type: JobTypeRow;
  let created = false;
  if (existing) {
    type = await reviseJobType(ctx, existing.id, {
      title: job.title,
      description: job.description,
      definition,
      manifest: document,
    });
  } else {
    try {
      type = await createJobType(ctx, {
        name: job.name,
        version: job.jobVersion,
        title: job.title,
        description: job.description,
        category: 'seed',
        definition,
        manifest: document,
      });
      created = true;
    } catch (error) {
      if (error instanceof DroverError && error.code === 'CONFLICT') {
        return saveSeedJobType(ctx, spec);
      }
      throw error;
    }
  }
  await inTransaction(ctx, async (tx) => {
    await upsertJobTypeErrors(
      tx,
      job.name,
      (job.errors ?? []).map((e) => ({
        name: e.name,
        title: e.title ?? e.name,
        description: e.description ?? '',
        category: e.category === 'data' ? 'DATA' : 'ALGORITHM',
        should_be_retried: 0,
        exit_code: e.code,
      })),
      ctx.clock(),
    );
  });
  return { type, created };
}

/** Reads the stored Scale document of a revision, if it has one. */
export function seedDocument(manifestJson: string | null): SeedJobTypeDocument | undefined {
  if (manifestJson === null) return undefined;
  const parsed = JSON.parse(manifestJson) as Partial<SeedJobTypeDocument>;
  return parsed.manifest && parsed.configuration ? (parsed as SeedJobTypeDocument) : undefined;
}
