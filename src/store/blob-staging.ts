import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DroverError } from '../domain/errors.js';

/** An upload written to a staging file, counted and hashed on the way. */
export interface StagedBlob {
  path: string;
  size: number;
  sha256: string;
}

export function tooLarge(limit: number): DroverError {
  return new DroverError(
    'PAYLOAD_TOO_LARGE',
    `the upload is larger than the limit of ${limit} bytes; split the file, or raise the server's upload limit (--max-upload-mb)`,
    { limit },
  );
}

/**
 * Streams `source` to a new file in `dir`, never holding more than a stream buffer of it:
 * a 200 MB output buffered whole took 380 MB of the server's memory, three at once 1.4 GB.
 * Past `limit` bytes it stops with a 413 and deletes what it wrote. The source (a request)
 * is detached rather than destroyed, so the 413 still reaches the client: Node discards the
 * rest of a request body once its answer is sent. A source that ends early (the client
 * hung up) leaves no file either.
 */
export async function stageUpload(
  dir: string,
  source: Readable | Uint8Array,
  limit: number,
): Promise<StagedBlob> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${randomUUID()}.part`);
  const input = source instanceof Uint8Array ? Readable.from([Buffer.from(source)]) : source;
  const hash = createHash('sha256');
  let size = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.byteLength;
      if (size > limit) return done(tooLarge(limit));
      hash.update(chunk);
      done(null, chunk);
    },
  });
  const onClose = (): void => {
    if (!input.readableEnded)
      counter.destroy(new DroverError('VALIDATION', 'the upload ended early'));
  };
  const onError = (error: Error): void => void counter.destroy(error);
  input.once('close', onClose);
  input.once('error', onError);
  const written = pipeline(counter, createWriteStream(path, { flags: 'wx' }));
  input.pipe(counter);
  try {
    await written;
  } catch (error) {
    input.unpipe(counter);
    if (!input.destroyed) input.resume();
    await rm(path, { force: true });
    throw error;
  } finally {
    input.off('close', onClose);
    input.off('error', onError);
  }
  return { path, size, sha256: hash.digest('hex') };
}
