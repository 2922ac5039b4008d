import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';

export { isPostgresUrl } from './database.js';

/*
 * `drover backup`: an online backup of a SQLite farm while its server runs, with nothing
 * to install beside Drover (no sqlite3 shell). The database is copied by VACUUM INTO from
 * a read-only connection: one read transaction, so the copy is the database as of one
 * commit however busy the server is (SQLite's backup API, in steps, starts over whenever
 * another process writes between two steps, and under steady load may never end). Then
 * the blob files beside it (`<file>-blobs/`): a blob file is in place before the row that
 * names it commits, so a copy taken after the snapshot holds every output the snapshot
 * names, but those purged in between. The copy is checked (PRAGMA integrity_check) before
 * the command says it is done.
 */

export interface BackupResult {
  /** Bytes of the database copy. */
  bytes: number;
  /** Blob files copied. */
  blobs: number;
  /** Where they went (absent: the farm has no blob directory). */
  blobDir?: string;
}

export function blobDirOf(databaseFile: string): string {
  return `${databaseFile}-blobs`;
}

export function backupSqlite(source: string, target: string): BackupResult {
  if (!existsSync(source)) throw new Error(`${source}: no such database file`);
  for (const path of [target, blobDirOf(target)]) {
    // Never over an earlier backup: a half-written one must not pass for it.
    if (existsSync(path)) throw new Error(`${path} exists: back up to a new name`);
  }
  const db = new SQLite(source, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    db.prepare('VACUUM INTO ?').run(target);
  } finally {
    db.close();
  }
  const check = new SQLite(target, { readonly: true, fileMustExist: true });
  let bytes: number;
  try {
    const result = check.pragma('integrity_check', { simple: true });
    if (result !== 'ok')
      throw new Error(`the copy ${target} fails its integrity check: ${String(result)}`);
    const pages = check.pragma('page_count', { simple: true }) as number;
    bytes = pages * (check.pragma('page_size', { simple: true }) as number);
  } finally {
    check.close();
  }
  const from = blobDirOf(source);
  if (!existsSync(from)) return { bytes, blobs: 0 };
  const to = blobDirOf(target);
  return { bytes, blobs: copyTree(from, to), blobDir: to };
}

/**
 * Copies a directory's files, tolerating those that go while it runs (the outputs of a job
 * purged meanwhile, a staged upload renamed into place): the snapshot names neither.
 */
function copyTree(from: string, to: string): number {
  mkdirSync(to, { recursive: true });
  let copied = 0;
  let entries;
  try {
    entries = readdirSync(from, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  for (const entry of entries) {
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isDirectory()) copied += copyTree(source, target);
    else if (entry.isFile()) {
      try {
        copyFileSync(source, target);
        copied += 1;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
  }
  return copied;
}
