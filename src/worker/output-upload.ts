import { lstat, open, readdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { ServerClient } from './server-client.js';

/*
 * Every regular file a task leaves in its output directory becomes an output of the job,
 * named by its path relative to that directory (`a/b.png`). Symbolic links are not
 * followed: a task must not be able to publish files from elsewhere on the worker.
 */

const MEDIA_TYPES: Record<string, string> = {
  '.txt': 'text/plain',
  '.log': 'text/plain',
  '.csv': 'text/csv',
  '.json': 'application/json',
  '.xml': 'application/xml',
  '.html': 'text/html',
  '.yaml': 'application/yaml',
  '.yml': 'application/yaml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
  '.exr': 'image/x-exr',
  '.svg': 'image/svg+xml',
  '.pdf': 'application/pdf',
  '.zip': 'application/zip',
  '.gz': 'application/gzip',
  '.tar': 'application/x-tar',
  '.mp4': 'video/mp4',
  '.mov': 'video/quicktime',
  '.wav': 'audio/wav',
  '.mp3': 'audio/mpeg',
};

export function mediaTypeOf(name: string): string {
  return MEDIA_TYPES[extname(name).toLowerCase()] ?? 'application/octet-stream';
}

/** Relative names of the regular files under `dir`, sorted. */
export async function listOutputFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (relative: string): Promise<void> => {
    const entries = await readdir(join(dir, relative), { withFileTypes: true });
    for (const entry of entries) {
      const name = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isDirectory()) await walk(name);
      else if (entry.isFile()) found.push(name);
    }
  };
  await walk('');
  return found.sort();
}

export interface UploadResult {
  uploaded: string[];
  /** Files that could not be uploaded, with why. */
  failed: { name: string; reason: string }[];
}

/** Uploads the files one at a time; a 409 (lease gone) is thrown to the caller. */
export async function uploadOutputs(
  client: ServerClient,
  executionId: number,
  nodeId: number,
  dir: string,
  signal: AbortSignal,
): Promise<UploadResult> {
  const result: UploadResult = { uploaded: [], failed: [] };
  for (const name of await listOutputFiles(dir)) {
    const path = join(dir, name);
    const query = new URLSearchParams({
      nodeId: String(nodeId),
      name,
      type: mediaTypeOf(name),
    });
    try {
      if (!(await lstat(path)).isFile()) continue;
      await client.request('POST', `/executions/${executionId}/outputs?${query.toString()}`, {
        raw: async () => {
          const file = await open(path, 'r');
          try {
            const { size } = await file.stat();
            return { stream: file.createReadStream(), length: size };
          } catch (error) {
            await file.close();
            throw error;
          }
        },
        signal,
        timeoutMs: 10 * 60_000,
      });
      result.uploaded.push(name);
    } catch (error) {
      if ((error as { status?: number }).status === 409) throw error;
      if (signal.aborted) throw error;
      result.failed.push({ name, reason: (error as Error).message });
    }
  }
  return result;
}
