import { posix } from 'node:path';
import { matchesGlob } from '../../domain/glob.js';
import type { EngineContext } from '../../engine/context.js';
import type { BlobStore } from '../../store/blob-store.js';
import type { Executor } from '../../store/database.js';
import {
  deleteProductFilesOfExecution,
  insertFile,
  productFilesOfJob,
  type ProductFileRow,
} from '../../store/files.js';
import { jsonOutputsOfJob, saveJobJsonOutputs } from '../../store/job-json-outputs.js';
import { findRevisionById, manifestOfJob } from '../../store/job-types.js';
import { listOutputsOfExecution, type OutputRow } from '../../store/outputs.js';
import type { ExecutionRow, JobRow } from '../../store/schema.js';
import { JSON_TYPE_CHECK } from './seed-data.js';
import type { ScaleJobDocument } from './seed-jobs.js';
import { seedDocument, type SeedManifest } from './seed-manifests.js';

/*
 * Outputs of Seed jobs, as Scale's post step treats them. When a task of a job whose type
 * came from a Seed manifest uploads an output whose name (its path relative to the output
 * directory) matches the glob `pattern` of one of the manifest's interface.outputs.files,
 * the output is registered as a Scale file of type PRODUCT holding the output's blob (in
 * the upload's transaction). When the node then reports success, the execution's uploads
 * must satisfy the manifest (`settleSeedOutputs`), and the json outputs are read from its
 * `seed.outputs.json`. The job's output Data JSON lists, for each manifest file output, the
 * ids of the product files whose path matches its pattern, and the kept json outputs.
 */

type OutputsInterface = NonNullable<NonNullable<SeedManifest['job']['interface']>['outputs']>;
type OutputFileEntry = NonNullable<OutputsInterface['files']>[number];
type OutputJsonEntry = NonNullable<OutputsInterface['json']>[number];

/** Where a Seed job gives its json outputs: a file at the top of its output directory. */
export const SEED_OUTPUTS_JSON = 'seed.outputs.json';

/**
 * Seed's own files in the output directory, which no pattern captures as a product (Scale
 * leaves them out of every match): the json outputs, side-car metadata (`x.png.metadata.json`)
 * and a legacy results manifest.
 */
export function isSeedSpecialFile(name: string): boolean {
  const base = posix.basename(name);
  return (
    base === SEED_OUTPUTS_JSON ||
    base === 'results_manifest.json' ||
    base.endsWith('.metadata.json')
  );
}

/** The manifest's outputs of a Seed job; undefined for a job of any other job type. */
function outputsInterface(manifestJson: string | null): OutputsInterface | undefined {
  const document = seedDocument(manifestJson);
  return document ? (document.manifest.job.interface?.outputs ?? {}) : undefined;
}

async function outputsInterfaceOf(
  db: Executor,
  job: JobRow,
): Promise<OutputsInterface | undefined> {
  return outputsInterface((await findRevisionById(db, job.job_type_rev_id))?.manifest_json ?? null);
}

const captures = (entry: OutputFileEntry, name: string) =>
  !isSeedSpecialFile(name) && matchesGlob(name, entry.pattern);

export interface UploadedOutput {
  name: string;
  type: string;
  size: number;
  sha256: string;
  blobId: number;
}

/** Registers an uploaded output of a Seed job as a product file when a pattern matches. */
export async function registerProductFile(
  tx: Executor,
  job: JobRow,
  output: UploadedOutput,
  now: number,
): Promise<number | undefined> {
  const entries = (await outputsInterfaceOf(tx, job))?.files ?? [];
  const matching = entries.filter((e) => captures(e, output.name));
  if (matching.length === 0) return undefined;
  const scale = (JSON.parse(job.dialect_json) as { scale?: ScaleJobDocument }).scale;
  const workspaces = scale?.configuration.output_workspaces;
  return insertFile(tx, {
    file_name: posix.basename(output.name),
    media_type: matching.find((e) => e.mediaType)?.mediaType ?? output.type,
    file_type: 'PRODUCT',
    size: output.size,
    sha256: output.sha256,
    path: output.name,
    workspace: workspaces?.outputs?.[matching[0]!.name] ?? workspaces?.default ?? 'default',
    blob_id: output.blobId,
    props_json: JSON.stringify({ job_id: job.id }),
    created_at: now,
    last_modified: now,
    deleted_at: null,
    source_started: null,
    source_ended: null,
    data_started: null,
    data_ended: null,
  });
}

/** Why a reported success is a failure: a built-in error of Scale's post step. */
export interface OutputFailure {
  errorName: 'missing-required-output' | 'unexpected-multiple-outputs' | 'invalid-results-manifest';
  message: string;
}

/**
 * Scale's post step, run in the finish transaction of a Seed job's execution that the node
 * reports successful: each `required` file output must match an output the execution
 * uploaded, one without `multiple` at most one, and `seed.outputs.json` must give every
 * required json output a value of its type. On a failure the execution's product files are
 * dropped (Scale stores no products when its post step fails) and the failure is returned
 * for the caller to fail the execution with; else the json outputs are kept. Jobs of other
 * job types are left alone.
 */
export async function settleSeedOutputs(
  tx: Executor,
  blobs: BlobStore,
  execution: ExecutionRow,
  now: number,
): Promise<OutputFailure | undefined> {
  // On every finish: one key lookup tells a Seed job from the rest, which return here.
  const outputs = outputsInterface(await manifestOfJob(tx, execution.job_id));
  if (!outputs) return undefined;
  const uploaded = await listOutputsOfExecution(tx, execution.id);
  const jsonEntries = outputs.json ?? [];
  const result =
    checkOutputFiles(
      outputs.files ?? [],
      uploaded.map((o) => o.name),
    ) ?? (await readJsonOutputs(tx, blobs, jsonEntries, uploaded));
  if ('errorName' in result) {
    await deleteProductFilesOfExecution(tx, execution.id, now);
    return result;
  }
  if (jsonEntries.length > 0) {
    await saveJobJsonOutputs(tx, {
      job_id: execution.job_id,
      execution_id: execution.id,
      values_json: JSON.stringify(result.values),
      created_at: now,
    });
  }
  return undefined;
}

function checkOutputFiles(
  entries: readonly OutputFileEntry[],
  names: readonly string[],
): OutputFailure | undefined {
  for (const entry of entries) {
    const matched = names.filter((name) => captures(entry, name));
    if ((entry.required ?? true) && matched.length === 0) {
      return {
        errorName: 'missing-required-output',
        message: `${entry.name} is a required output, but the algorithm did not provide it (no output file matches '${entry.pattern}')`,
      };
    }
    if (!(entry.multiple ?? false) && matched.length > 1) {
      const listed = matched.slice(0, 5).join(', ') + (matched.length > 5 ? ', …' : '');
      return {
        errorName: 'unexpected-multiple-outputs',
        message: `Pattern '${entry.pattern}' of output ${entry.name} matched ${matched.length} files (${listed}), which is not consistent with a false value for 'multiple'`,
      };
    }
  }
  return undefined;
}

async function readJsonOutputs(
  tx: Executor,
  blobs: BlobStore,
  entries: readonly OutputJsonEntry[],
  uploaded: readonly OutputRow[],
): Promise<{ values: Record<string, unknown> } | OutputFailure> {
  if (entries.length === 0) return { values: {} };
  const file = uploaded.find((o) => o.name === SEED_OUTPUTS_JSON);
  const data = file ? await blobs.read(tx, file.blob_id) : undefined;
  return jsonOutputValues(entries, data && Buffer.from(data).toString('utf8'));
}

/**
 * The json outputs in `seed.outputs.json` (text, undefined when the execution left none),
 * by output name. Each is read under its `key`, else its name; keys no output names are
 * ignored, as Scale ignores them. Scale only logs a missing file; Drover fails a job whose
 * manifest requires json outputs that were never given.
 */
function jsonOutputValues(
  entries: readonly OutputJsonEntry[],
  text: string | undefined,
): { values: Record<string, unknown> } | OutputFailure {
  const invalid = (why: string): OutputFailure => ({
    errorName: 'invalid-results-manifest',
    message: `${SEED_OUTPUTS_JSON}: ${why}`,
  });
  const keyOf = (entry: OutputJsonEntry) => entry.key || entry.name;
  if (text === undefined) {
    const required = entries.filter((e) => e.required ?? true).map((e) => `'${keyOf(e)}'`);
    if (required.length === 0) return { values: {} };
    return invalid(`not produced; it must give the required json outputs ${required.join(', ')}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return invalid(`not valid JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return invalid('must hold a JSON object of the json outputs by key');
  }
  const values: Record<string, unknown> = {};
  for (const entry of entries) {
    const key = keyOf(entry);
    if (!Object.hasOwn(parsed, key)) {
      if (entry.required ?? true) return invalid(`'${key}' is a required property`);
      continue;
    }
    const value = (parsed as Record<string, unknown>)[key];
    const [check, described] = JSON_TYPE_CHECK[entry.type];
    if (!check(value)) {
      return invalid(`'${key}' (json output ${entry.name}) must be ${described}`);
    }
    values[entry.name] = value;
  }
  return { values };
}

/** Each manifest output's value for a job: its live product files, or its json value. */
export async function seedOutputValues(
  ctx: EngineContext,
  job: JobRow,
): Promise<{ files: Record<string, ProductFileRow[]>; json: Record<string, unknown> }> {
  const outputs = await outputsInterfaceOf(ctx.db, job);
  const files: Record<string, ProductFileRow[]> = {};
  if (!outputs) return { files, json: {} };
  const [products, json] = await Promise.all([
    (outputs.files ?? []).length > 0 ? productFilesOfJob(ctx.db, job.id) : [],
    (outputs.json ?? []).length > 0 ? jsonOutputsOfJob(ctx.db, job.id) : {},
  ]);
  for (const entry of outputs.files ?? []) {
    const matching = products.filter((f) => captures(entry, f.path));
    if (matching.length > 0) files[entry.name] = matching;
  }
  return { files, json };
}

/** Scale's output Data JSON of a job: each file output's product file ids, the json outputs. */
export async function seedOutputData(
  ctx: EngineContext,
  job: JobRow,
): Promise<{ files: Record<string, number[]>; json: Record<string, unknown> }> {
  const values = await seedOutputValues(ctx, job);
  const files: Record<string, number[]> = {};
  for (const [name, rows] of Object.entries(values.files)) files[name] = rows.map((f) => f.id);
  return { files, json: values.json };
}
