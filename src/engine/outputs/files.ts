import { invalid } from '../../domain/errors.js';
import { insertFile, findFile, type FileRow } from '../../store/files.js';
import { inTransaction, type EngineContext } from '../context.js';

/*
 * Registered files: what a Scale job's Data JSON names by id. Drover does not move file
 * contents; a file is a path every node can read (a shared mount), with its metadata.
 */

export interface FileRegistration {
  fileName: string;
  path: string;
  mediaType?: string;
  size?: number;
  workspace?: string;
  /** Source and data times, epoch ms (Scale's source_started, data_ended, …). */
  times?: FileTimes;
  /** Other metadata (Scale's source_sensor, source_collection, …). */
  props?: Record<string, unknown>;
}

export interface FileTimes {
  sourceStarted?: number;
  sourceEnded?: number;
  dataStarted?: number;
  dataEnded?: number;
}

/**
 * Lengths as Scale's model has them (file_name 250, file_path 1000 characters). The name is
 * indexed, and PostgreSQL refuses an index entry past 2,704 bytes: a 100,000-character
 * name was a 500 there and stored on SQLite (found by the fuzz).
 */
export const FILE_TEXT_LIMITS = {
  file_name: 250,
  file_path: 1000,
  media_type: 250,
  workspace: 250,
} as const;

export async function registerFile(ctx: EngineContext, r: FileRegistration): Promise<FileRow> {
  if (!r.fileName || r.fileName.includes('/')) {
    throw invalid('file_name must be a file name without directories', { field: 'file_name' });
  }
  if (!r.path) throw invalid('file_path is required', { field: 'file_path' });
  for (const [field, value] of [
    ['file_name', r.fileName],
    ['file_path', r.path],
    ['media_type', r.mediaType],
    ['workspace', r.workspace],
  ] as const) {
    if (value !== undefined && value.length > FILE_TEXT_LIMITS[field]) {
      throw invalid(
        `${field} may be at most ${FILE_TEXT_LIMITS[field]} characters, got ${value.length}`,
        { field },
      );
    }
  }
  const size = r.size ?? 0;
  if (!Number.isInteger(size) || size < 0) throw invalid('file_size must be an integer >= 0');
  return inTransaction(ctx, async (tx) => {
    const now = ctx.clock();
    const id = await insertFile(tx, {
      file_name: r.fileName,
      media_type: r.mediaType ?? 'application/octet-stream',
      file_type: 'SOURCE',
      size,
      sha256: null,
      path: r.path,
      workspace: r.workspace ?? 'default',
      blob_id: null,
      props_json: JSON.stringify(r.props ?? {}),
      created_at: now,
      last_modified: now,
      deleted_at: null,
      source_started: r.times?.sourceStarted ?? null,
      source_ended: r.times?.sourceEnded ?? null,
      data_started: r.times?.dataStarted ?? null,
      data_ended: r.times?.dataEnded ?? null,
    });
    return (await findFile(tx, id))!;
  });
}
