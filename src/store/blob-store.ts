import { createReadStream } from 'node:fs';
import { open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { sql } from 'kysely';
import { stageUpload, type StagedBlob } from './blob-staging.js';
import type { DialectName, Executor } from './database.js';

/*
 * Where the bytes of outputs live. Rows of `blobs` hold size and hash; the bytes are a file
 * beside the SQLite database (`<file>-blobs/`, as its -wal and -shm are), or a PostgreSQL
 * large object, which every replica reads through the database it already shares. Rows
 * written before 0012 keep their bytes in `data`. An upload is staged to a local file first
 * (streamed and hashed, so memory stays flat), and only moved into place inside the
 * transaction that writes its row: a slow client never holds a transaction open.
 */

/** Large objects are written and read in pieces of this size. */
const CHUNK = 1024 * 1024;

/** A blob file with no row is deleted once it is this old (a transaction may be placing it). */
const ORPHAN_AGE_MS = 10 * 60 * 1000;

const STAGING = '.staging';

export interface StoredBlob {
  size: number;
  stream(): Readable;
}

export interface BlobStore {
  /** Streams an upload to a staging file (see stageUpload); 413 past `limit` bytes. */
  stage(source: Readable | Uint8Array, limit: number): Promise<StagedBlob>;
  /** Inside the transaction: stores the staged bytes and writes their row; its id. */
  commit(tx: Executor, staged: StagedBlob, now: number): Promise<number>;
  /** After the transaction: drops the staging file, and the placed file if it rolled back. */
  release(staged: StagedBlob, committed: boolean): Promise<void>;
  open(db: Executor, id: number): Promise<StoredBlob | undefined>;
  /** The whole blob (small ones only: seed.outputs.json). */
  read(db: Executor, id: number): Promise<Uint8Array | undefined>;
  /** Deletes files whose rows are gone (SQLite; large objects go with their row). */
  sweep(db: Executor): Promise<number>;
}

interface BlobLocation {
  size: number;
  data: Uint8Array;
  file: string | null;
  large_object: number | null;
}

async function locate(db: Executor, id: number): Promise<BlobLocation | undefined> {
  return db
    .selectFrom('blobs')
    .select(['size', 'data', 'file', 'large_object'])
    .where('id', '=', id)
    .executeTakeFirst();
}

function inline(row: BlobLocation): StoredBlob {
  const data = Buffer.from(row.data.buffer, row.data.byteOffset, row.data.byteLength);
  return { size: data.byteLength, stream: () => Readable.from([data]) };
}

async function insertRow(
  tx: Executor,
  staged: StagedBlob,
  now: number,
  where: { file: string } | { large_object: number },
): Promise<number> {
  const { id } = await tx
    .insertInto('blobs')
    .values({
      size: staged.size,
      sha256: staged.sha256,
      data: new Uint8Array(0),
      file: null,
      large_object: null,
      ...where,
      created_at: now,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(id);
}

/** SQLite: one file per blob in a directory beside the database file. */
export class FileBlobStore implements BlobStore {
  readonly #placed = new WeakMap<StagedBlob, string>();

  constructor(readonly dir: string) {}

  stage(source: Readable | Uint8Array, limit: number): Promise<StagedBlob> {
    return stageUpload(join(this.dir, STAGING), source, limit);
  }

  async commit(tx: Executor, staged: StagedBlob, now: number): Promise<number> {
    const name = staged.path.slice(staged.path.lastIndexOf('/') + 1).replace(/\.part$/, '');
    const id = await insertRow(tx, staged, now, { file: name });
    await rename(staged.path, join(this.dir, name));
    this.#placed.set(staged, join(this.dir, name));
    return id;
  }

  async release(staged: StagedBlob, committed: boolean): Promise<void> {
    await rm(staged.path, { force: true });
    const placed = this.#placed.get(staged);
    if (!committed && placed) await rm(placed, { force: true });
  }

  async open(db: Executor, id: number): Promise<StoredBlob | undefined> {
    const row = await locate(db, id);
    if (!row) return undefined;
    if (row.file === null) return inline(row);
    const path = join(this.dir, row.file);
    return { size: row.size, stream: () => createReadStream(path) };
  }

  async read(db: Executor, id: number): Promise<Uint8Array | undefined> {
    const row = await locate(db, id);
    if (!row) return undefined;
    return row.file === null ? row.data : readFile(join(this.dir, row.file));
  }

  async sweep(db: Executor): Promise<number> {
    // Listed before the rows are read: a file placed after the listing is not looked at.
    const names = await readdir(this.dir).catch(() => [] as string[]);
    let removed = 0;
    for (let i = 0; i < names.length; i += 500) {
      const batch = names.slice(i, i + 500).filter((n) => n !== STAGING);
      if (batch.length === 0) continue;
      const rows = await db.selectFrom('blobs').select('file').where('file', 'in', batch).execute();
      const kept = new Set(rows.map((r) => r.file));
      for (const name of batch) {
        if (kept.has(name)) continue;
        removed += await removeIfOld(join(this.dir, name));
      }
    }
    const staging = join(this.dir, STAGING);
    for (const name of await readdir(staging).catch(() => [] as string[])) {
      removed += await removeIfOld(join(staging, name));
    }
    return removed;
  }
}

async function removeIfOld(path: string): Promise<number> {
  const info = await stat(path).catch(() => undefined);
  if (!info || Date.now() - info.mtimeMs < ORPHAN_AGE_MS) return 0;
  await rm(path, { force: true, recursive: true });
  return 1;
}

/**
 * PostgreSQL: a large object per blob, written in the transaction that writes its row, so
 * a rollback leaves nothing, and unlinked by a trigger when its row is deleted (0012).
 */
export class LargeObjectBlobStore implements BlobStore {
  constructor(readonly stagingDir: string) {}

  stage(source: Readable | Uint8Array, limit: number): Promise<StagedBlob> {
    return stageUpload(this.stagingDir, source, limit);
  }

  async commit(tx: Executor, staged: StagedBlob, now: number): Promise<number> {
    const created = await sql<{
      oid: number;
    }>`select lo_from_bytea(0, ''::bytea)::bigint as oid`.execute(tx);
    const oid = Number(created.rows[0]!.oid);
    // One buffer, read into again for each piece once its lo_put has run: a fresh buffer
    // per piece (a read stream's) is garbage that only a full collection frees, and three
    // 200 MB uploads at once took the server over 200 MB with them.
    const file = await open(staged.path, 'r');
    try {
      const buffer = Buffer.allocUnsafe(CHUNK);
      for (let offset = 0; ;) {
        const { bytesRead } = await file.read(buffer, 0, CHUNK, offset);
        if (bytesRead === 0) break;
        const piece = buffer.subarray(0, bytesRead);
        await sql`select lo_put(${oid}::bigint::oid, ${offset}::bigint, ${piece})`.execute(tx);
        offset += bytesRead;
      }
    } finally {
      await file.close();
    }
    return insertRow(tx, staged, now, { large_object: oid });
  }

  async release(staged: StagedBlob): Promise<void> {
    await rm(staged.path, { force: true });
  }

  async open(db: Executor, id: number): Promise<StoredBlob | undefined> {
    const row = await locate(db, id);
    if (!row) return undefined;
    const oid = row.large_object;
    if (oid === null) return inline(row);
    const size = row.size;
    return {
      size,
      stream: () =>
        Readable.from(
          (async function* () {
            for (let offset = 0; offset < size; offset += CHUNK) {
              yield await readPiece(db, oid, offset, Math.min(CHUNK, size - offset));
            }
          })(),
        ),
    };
  }

  async read(db: Executor, id: number): Promise<Uint8Array | undefined> {
    const row = await locate(db, id);
    if (!row) return undefined;
    if (row.large_object === null) return row.data;
    return readPiece(db, row.large_object, 0, row.size);
  }

  async sweep(): Promise<number> {
    return 0;
  }
}

async function readPiece(db: Executor, oid: number, offset: number, length: number) {
  const { rows } = await sql<{
    data: Buffer;
  }>`select lo_get(${oid}::bigint::oid, ${offset}::bigint, ${length}::int) as data`.execute(db);
  return rows[0]!.data;
}

/** The store a database uses: `blobDir` for SQLite (default beside the file). */
export function blobStoreFor(
  dialect: DialectName,
  url: string,
  options: { blobDir?: string; stagingDir?: string } = {},
): BlobStore {
  return dialect === 'postgres'
    ? new LargeObjectBlobStore(options.stagingDir ?? join(tmpdir(), 'drover-uploads'))
    : new FileBlobStore(options.blobDir ?? `${url}-blobs`);
}
