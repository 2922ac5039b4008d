import type { BuiltinJobType } from '../../domain/builtin-job-types.js';
import type { BlobStore } from '../../store/blob-store.js';
import type { Executor } from '../../store/database.js';
import type { ExecutionRow, JobRow } from '../../store/schema.js';

/*
 * Formats that define job types in documents of their own (src/formats/…: Scale's Seed
 * manifests). A job type revision keeps the format's original document (`manifest_json`);
 * the engine calls these hooks where a format has a say, knowing none of them. A format
 * answers undefined for a document that is not its own, and for a job type without one.
 * The formats are given to startEngine by whoever starts it (src/formats/index.ts).
 */

/** An output a node uploaded, as stored. */
export interface UploadedOutput {
  name: string;
  type: string;
  size: number;
  sha256: string;
  blobId: number;
}

/** Why a reported success is a failure: a registered error name and a message. */
export interface OutputFailure {
  errorName: string;
  message: string;
}

export interface JobDefinitionFormat {
  readonly name: string;
  /**
   * Job types the format's jobs are made of (an OpenJD job and its steps), added at start
   * as the built-in ones are, and like them never deleted.
   */
  readonly jobTypes?: readonly BuiltinJobType[];
  /** The tries a job of this type gets when requeued with a fresh allowance. */
  maxTries(document: string | null): number | undefined;
  /** In the upload's transaction, once an output of the job is stored. */
  outputUploaded(tx: Executor, job: JobRow, output: UploadedOutput, now: number): Promise<void>;
  /**
   * In the finish transaction of an execution its node reports successful: a failure fails
   * the execution instead.
   */
  settleOutputs(
    tx: Executor,
    blobs: BlobStore,
    execution: ExecutionRow,
    now: number,
  ): Promise<OutputFailure | undefined>;
}

export function formatMaxTries(
  formats: readonly JobDefinitionFormat[],
  document: string | null,
): number | undefined {
  for (const format of formats) {
    const tries = format.maxTries(document);
    if (tries !== undefined) return tries;
  }
  return undefined;
}

export async function outputUploaded(
  formats: readonly JobDefinitionFormat[],
  tx: Executor,
  job: JobRow,
  output: UploadedOutput,
  now: number,
): Promise<void> {
  for (const format of formats) await format.outputUploaded(tx, job, output, now);
}

export async function settleOutputs(
  formats: readonly JobDefinitionFormat[],
  tx: Executor,
  blobs: BlobStore,
  execution: ExecutionRow,
  now: number,
): Promise<OutputFailure | undefined> {
  for (const format of formats) {
    const failure = await format.settleOutputs(tx, blobs, execution, now);
    if (failure) return failure;
  }
  return undefined;
}
