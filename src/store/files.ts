import type { ExpressionBuilder, Selectable, SelectQueryBuilder } from 'kysely';
import type { Executor } from './database.js';
import type { Database, FilesTable } from './schema.js';

export type FileRow = Selectable<FilesTable>;

export async function insertFile(tx: Executor, row: Omit<FilesTable, 'id'>): Promise<number> {
  const { id } = await tx.insertInto('files').values(row).returning('id').executeTakeFirstOrThrow();
  return Number(id);
}

export async function findFile(db: Executor, id: number): Promise<FileRow | undefined> {
  return db.selectFrom('files').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findFiles(db: Executor, ids: readonly number[]): Promise<FileRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('files').selectAll().where('id', 'in', ids).orderBy('id').execute();
}

export interface FileFilter {
  ids?: number[];
  fileNames?: string[];
  jobIds?: number[];
  modifiedAfter?: number;
  modifiedBefore?: number;
}

/** Registered files, oldest change first; a job filter means the job's input files. */
export async function listFiles(
  db: Executor,
  filter: FileFilter,
  page: { limit: number; offset: number },
): Promise<{ rows: FileRow[]; total: number }> {
  let base = db.selectFrom('files').where('deleted_at', 'is', null);
  if (filter.ids?.length) base = base.where('id', 'in', filter.ids);
  if (filter.fileNames?.length) base = base.where('file_name', 'in', filter.fileNames);
  if (filter.jobIds?.length) {
    const jobIds = filter.jobIds;
    base = base.where('id', 'in', (eb) =>
      eb.selectFrom('job_input_files').select('file_id').where('job_id', 'in', jobIds),
    );
  }
  if (filter.modifiedAfter !== undefined)
    base = base.where('last_modified', '>=', filter.modifiedAfter);
  if (filter.modifiedBefore !== undefined)
    base = base.where('last_modified', '<=', filter.modifiedBefore);
  const [rows, count] = await Promise.all([
    base
      .selectAll()
      .orderBy('last_modified')
      .orderBy('id')
      .limit(page.limit)
      .offset(page.offset)
      .execute(),
    base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(count.n) };
}

export async function insertJobInputFiles(
  tx: Executor,
  rows: { job_id: number; file_id: number; input_name: string }[],
): Promise<void> {
  if (rows.length > 0) await tx.insertInto('job_input_files').values(rows).execute();
}

/** For each job, its input names with the names of their files. */
export async function inputFileNamesOfJobs(
  db: Executor,
  jobIds: readonly number[],
): Promise<Map<number, Record<string, string[]>>> {
  const out = new Map<number, Record<string, string[]>>();
  if (jobIds.length === 0) return out;
  const rows = await db
    .selectFrom('job_input_files as j')
    .innerJoin('files as f', 'f.id', 'j.file_id')
    .select(['j.job_id', 'j.input_name', 'f.file_name'])
    .where('j.job_id', 'in', jobIds)
    .orderBy('j.job_id')
    .orderBy('f.id')
    .execute();
  for (const r of rows) {
    const byInput = out.get(Number(r.job_id)) ?? {};
    (byInput[r.input_name] ??= []).push(r.file_name);
    out.set(Number(r.job_id), byInput);
  }
  return out;
}

export interface JobInputFileFilter {
  fileName?: string;
  inputName?: string;
  /** Which time the window applies to. */
  timeField: 'last_modified' | 'source' | 'data';
  after?: number;
  before?: number;
}

const TIME_COLUMNS = {
  last_modified: ['f.last_modified', 'f.last_modified'],
  source: ['f.source_started', 'f.source_ended'],
  data: ['f.data_started', 'f.data_ended'],
} as const;

/** A job's input files, with the input each one was given to; oldest change first. */
export async function listJobInputFiles(
  db: Executor,
  jobId: number,
  filter: JobInputFileFilter,
  page: { limit: number; offset: number },
): Promise<{ rows: (FileRow & { input_name: string })[]; total: number }> {
  let base = db
    .selectFrom('job_input_files as j')
    .innerJoin('files as f', 'f.id', 'j.file_id')
    .where('j.job_id', '=', jobId);
  if (filter.fileName !== undefined) base = base.where('f.file_name', '=', filter.fileName);
  if (filter.inputName !== undefined) base = base.where('j.input_name', '=', filter.inputName);
  // Scale's containment: the window's start bounds the file's start time and its end the
  // file's end time (last_modified bounds both); a file without that time does not match.
  const [startColumn, endColumn] = TIME_COLUMNS[filter.timeField];
  if (filter.after !== undefined) base = base.where(startColumn, '>=', filter.after);
  if (filter.before !== undefined) base = base.where(endColumn, '<=', filter.before);
  const [rows, count] = await Promise.all([
    base
      .selectAll('f')
      .select('j.input_name')
      .orderBy('f.last_modified')
      .orderBy('f.id')
      .limit(page.limit)
      .offset(page.offset)
      .execute(),
    base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(count.n) };
}

/*
 * Product files: the Scale files registered from a job's outputs (file_type PRODUCT), each
 * holding its output's blob. An output's blob is its own, so the blob links file and output.
 */

/** A product file with the execution that uploaded its output. */
export type ProductFileRow = FileRow & { execution_id: number | null };

/** The live product files of a job's live outputs, oldest first. */
export async function productFilesOfJob(db: Executor, jobId: number): Promise<ProductFileRow[]> {
  return db
    .selectFrom('files as f')
    .innerJoin('outputs as o', 'o.blob_id', 'f.blob_id')
    .selectAll('f')
    .select('o.execution_id')
    .where('o.job_id', '=', jobId)
    .where('o.deleted_at', 'is', null)
    .where('f.file_type', '=', 'PRODUCT')
    .where('f.deleted_at', 'is', null)
    .orderBy('f.id')
    .execute();
}

/** The blobs of some outputs: product files hold the same blobs as the outputs they came from. */
type OutputBlobs = SelectQueryBuilder<Database, 'outputs', { blob_id: number }>;

const outputBlobs = (tx: Executor): OutputBlobs => tx.selectFrom('outputs').select('blob_id');

/**
 * Marks deleted the live product files holding `blobs` (an output's blob, or those of some
 * outputs). With `detach` they also lose the blob, which is about to be deleted.
 */
async function retireProductFiles(
  tx: Executor,
  blobs: OutputBlobs | number,
  now: number,
  detach = false,
): Promise<void> {
  const holding = (eb: ExpressionBuilder<Database, 'files'>) =>
    typeof blobs === 'number' ? eb('blob_id', '=', blobs) : eb('blob_id', 'in', blobs);
  await tx
    .updateTable('files')
    .set({ deleted_at: now, last_modified: now })
    .where('file_type', '=', 'PRODUCT')
    .where('deleted_at', 'is', null)
    .where(holding)
    .execute();
  if (detach) await tx.updateTable('files').set({ blob_id: null }).where(holding).execute();
}

/** Marks deleted the product files of a job's deleted outputs of that name (superseded). */
export async function deleteProductFilesOfDeletedOutputs(
  tx: Executor,
  jobId: number,
  name: string,
  now: number,
): Promise<void> {
  const superseded = outputBlobs(tx)
    .where('job_id', '=', jobId)
    .where('name', '=', name)
    .where('deleted_at', 'is not', null);
  await retireProductFiles(tx, superseded, now);
}

/** Marks deleted the product files of the outputs one execution uploaded. */
export async function deleteProductFilesOfExecution(
  tx: Executor,
  executionId: number,
  now: number,
): Promise<void> {
  await retireProductFiles(tx, outputBlobs(tx).where('execution_id', '=', executionId), now);
}

/** Before a job's blobs go: its product files lose their blob and are marked deleted. */
export async function detachProductFilesOfJob(
  tx: Executor,
  jobId: number,
  now: number,
): Promise<void> {
  await retireProductFiles(tx, outputBlobs(tx).where('job_id', '=', jobId), now, true);
}

/** Before one output's blob goes: the product files holding it lose it and are marked deleted. */
export async function detachProductFilesOfBlob(
  tx: Executor,
  blobId: number,
  now: number,
): Promise<void> {
  await retireProductFiles(tx, blobId, now, true);
}
