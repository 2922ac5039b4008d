import type { Readable } from 'node:stream';
import { DroverError, invalid, notFound } from '../../domain/errors.js';
import { LIVE_EXECUTION_STATES, type ExecutionState } from '../../domain/execution-state.js';
import type { StagedBlob } from '../../store/blob-staging.js';
import type { StoredBlob } from '../../store/blob-store.js';
import { lockExecution } from '../../store/executions.js';
import { deleteProductFilesOfDeletedOutputs } from '../../store/files.js';
import { findJob } from '../../store/jobs.js';
import {
  findOutput,
  insertOutput,
  listOutputsOfJob,
  supersedeOutputs,
  type OutputRow,
} from '../../store/outputs.js';
import { inTransaction, type EngineContext } from '../context.js';
import { outputUploaded } from '../job-types/job-definition-formats.js';
import { DEFAULT_ENGINE_SETTINGS } from '../settings.js';

/*
 * Outputs: named, typed files a task left in its output directory, stored as blobs beside
 * the job. Only the node holding a live execution may add them (the fencing-token rule), so
 * a node that was cut off cannot attach files to work that has moved on.
 */

export const MAX_OUTPUT_NAME_LENGTH = 1000;

/**
 * A name is a path relative to the output directory, written with '/': `a/b.png`. Anything
 * that could leave that directory, or mean something else on another system, is refused.
 */
export function checkOutputName(name: string): string {
  const fail = (why: string): never => {
    throw invalid(`output name ${JSON.stringify(name)} ${why}`, { field: 'name' });
  };
  if (name.length === 0) fail('is empty');
  if (name.length > MAX_OUTPUT_NAME_LENGTH) {
    fail(`is longer than ${MAX_OUTPUT_NAME_LENGTH} characters`);
  }
  if (name.includes('\0')) fail('contains a NUL character');
  if (name.includes('\\')) fail("contains '\\'; separate directories with '/'");
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) {
    fail('is absolute; give a path relative to the output directory');
  }
  for (const segment of name.split('/')) {
    if (segment === '' || segment === '.' || segment === '..') {
      fail("has an empty, '.' or '..' path segment");
    }
  }
  return name;
}

export const DEFAULT_UPLOAD_LIMIT = DEFAULT_ENGINE_SETTINGS.uploadLimit;

export interface NewOutput {
  name: string;
  /** A media type; application/octet-stream when not known. */
  type?: string;
  /** The bytes: a request body is streamed to the blob store, never held whole. */
  content: Readable | Uint8Array;
  /** Refuse (413) more bytes than this; DEFAULT_UPLOAD_LIMIT when absent. */
  limit?: number;
}

/**
 * Streams `content` to the blob store, then runs `work` (the transaction that writes the
 * rows, and calls `ctx.blobs.commit`). Whatever happens, no staged or half-placed bytes
 * are left behind unless that transaction committed.
 */
export async function withStagedUpload<T>(
  ctx: EngineContext,
  content: Readable | Uint8Array,
  limit: number,
  work: (staged: StagedBlob) => Promise<T>,
): Promise<T> {
  const staged = await ctx.blobs.stage(content, limit);
  let committed = false;
  try {
    const result = await work(staged);
    committed = true;
    return result;
  } finally {
    await ctx.blobs.release(staged, committed);
  }
}

export async function addOutput(
  ctx: EngineContext,
  executionId: number,
  nodeId: number | undefined,
  output: NewOutput,
): Promise<OutputRow> {
  const name = checkOutputName(output.name);
  const type = output.type?.trim() || 'application/octet-stream';
  if (type.length > 255 || /[\r\n]/.test(type)) {
    throw invalid('output type must be a media type such as image/png', { field: 'type' });
  }
  const limit = output.limit ?? DEFAULT_UPLOAD_LIMIT;
  const result = await withStagedUpload(ctx, output.content, limit, (staged) =>
    inTransaction(ctx, async (tx) => {
      const execution = await lockExecution(tx, ctx.dialect, executionId);
      if (!execution) throw notFound('execution', executionId);
      if (nodeId !== undefined && execution.node_id !== nodeId) {
        return stale(
          `execution ${executionId} is held by node ${execution.node_id}, not ${nodeId}`,
        );
      }
      if (!LIVE_EXECUTION_STATES.includes(execution.state as ExecutionState)) {
        return stale(`execution ${executionId} is ${execution.state}; its outputs are closed`);
      }
      const now = ctx.clock();
      const { size, sha256 } = staged;
      const blobId = await ctx.blobs.commit(tx, staged, now);
      await supersedeOutputs(tx, execution.job_id, execution.task_id, name, now);
      const id = await insertOutput(tx, {
        job_id: execution.job_id,
        execution_id: executionId,
        name,
        type,
        size,
        sha256,
        blob_id: blobId,
        created_at: now,
      });
      // The product files of the output this one replaced go; a format may register this one
      // (a Seed job's output matching a manifest output pattern is also a Scale file).
      await deleteProductFilesOfDeletedOutputs(tx, execution.job_id, name, now);
      const job = await findJob(tx, execution.job_id);
      if (job) {
        await outputUploaded(ctx.formats, tx, job, { name, type, size, sha256, blobId }, now);
      }
      return { ok: (await findOutput(tx, id))! };
    }),
  );
  if ('refused' in result) throw result.refused;
  return result.ok;
}

function stale(message: string): { refused: DroverError } {
  return { refused: new DroverError('STALE_LEASE', message) };
}

export async function jobOutputs(ctx: EngineContext, jobId: number): Promise<OutputRow[]> {
  if (!(await findJob(ctx.db, jobId))) throw notFound('job', jobId);
  return listOutputsOfJob(ctx.db, jobId);
}

export async function outputContent(
  ctx: EngineContext,
  outputId: number,
): Promise<{ output: OutputRow; content: StoredBlob }> {
  const output = await findOutput(ctx.db, outputId);
  if (!output || output.deleted_at !== null) throw notFound('output', outputId);
  const content = await ctx.blobs.open(ctx.db, output.blob_id);
  if (!content) throw notFound('output content', outputId);
  return { output, content };
}
