import { posix } from 'node:path';
import { matchesGlob } from '../domain/glob.js';
import type { Executor } from '../store/database.js';
import { insertFile, productFilesOfJob } from '../store/files.js';
import { findRevisionById } from '../store/job-types.js';
import type { JobRow } from '../store/schema.js';
import type { EngineContext } from './context.js';
import type { ScaleJobDocument } from './seed-jobs.js';
import { seedDocument, type SeedManifest } from './seed-manifests.js';

/*
 * Outputs of Seed jobs as Scale files. When a task of a job whose type came from a Seed
 * manifest uploads an output whose name (its path relative to the output directory)
 * matches the glob `pattern` of one of the manifest's interface.outputs.files, the output
 * is registered as a Scale file of type PRODUCT holding the output's blob (in the upload's
 * transaction). The job's output Data JSON lists, for each manifest output, the ids of
 * those files whose path matches its pattern.
 */

type OutputFileEntry = NonNullable<
  NonNullable<NonNullable<SeedManifest['job']['interface']>['outputs']>['files']
>[number];

async function outputEntriesOf(db: Executor, job: JobRow): Promise<OutputFileEntry[]> {
  const revision = await findRevisionById(db, job.job_type_rev_id);
  const document = seedDocument(revision?.manifest_json ?? null);
  return document?.manifest.job.interface?.outputs?.files ?? [];
}

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
  const matching = (await outputEntriesOf(tx, job)).filter((e) =>
    matchesGlob(output.name, e.pattern),
  );
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

/** Scale's output Data JSON of a job: each manifest output's matching product file ids. */
export async function seedOutputData(
  ctx: EngineContext,
  job: JobRow,
): Promise<{ files: Record<string, number[]>; json: Record<string, unknown> }> {
  const entries = await outputEntriesOf(ctx.db, job);
  const files: Record<string, number[]> = {};
  if (entries.length === 0) return { files, json: {} };
  const products = await productFilesOfJob(ctx.db, job.id);
  for (const entry of entries) {
    const ids = products.filter((f) => matchesGlob(f.path, entry.pattern)).map((f) => f.id);
    if (ids.length > 0) files[entry.name] = ids;
  }
  return { files, json: {} };
}
