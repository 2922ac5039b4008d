import { lstatSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { DroverError, invalid } from '../../domain/errors.js';
import { liveExecutionsOfJob } from '../../store/executions.js';
import { executionsOfJob, insertArchiveRecord } from '../../store/job-archives.js';
import { findJobType, findJobTypeByName, findRevision } from '../../store/job-types.js';
import {
  addDependencies,
  dependenciesOf,
  findJob,
  findJobs,
  insertJob,
  nodeListOf,
  recountTasks,
  setNodeList,
  updateJob,
} from '../../store/jobs.js';
import type { ExecutionRow, JobRow, TaskRow } from '../../store/schema.js';
import { tasksOfJob } from '../../store/task-frames.js';
import { insertTasks, tasksInStates } from '../../store/tasks.js';
import { inTransaction, type EngineContext } from '../context.js';
import { moveTasks, stopExecutions } from '../state-changes.js';
import { lockedJob } from './job-actions.js';

/*
 * Archiving takes a job out of the repository into one JSON file in the archive directory
 * (Deadline's "archive"): its row, tasks, node list, dependencies and executions. The job
 * stops, and stays in the database as deleted and archived until it is purged, so the
 * native API can still show it. Importing a file brings the job back: the same job when it
 * is still in the database, otherwise a new job made from the file (its executions, which
 * name nodes of the farm that wrote it, are not restored). Paths are confined to the
 * archive directory; anything that resolves outside it is refused.
 */

export const ARCHIVE_FORMAT = 'drover-job-archive';

interface ArchiveFile {
  format: typeof ARCHIVE_FORMAT;
  version: 1;
  archivedAt: number;
  job: JobRow;
  type: { name: string; version: string };
  tasks: TaskRow[];
  nodeList: string[];
  dependencies: number[];
  executions: ExecutionRow[];
}

/**
 * A file inside `directory`, by the real path of the file itself: a symbolic link is
 * followed to where it points, and refused when that is outside (an archive was read
 * through, and written through, a link to anywhere). A name that does not exist yet must
 * not be a link either (a dangling one would be written through). Messages name the file
 * as given, relative to the archive directory, never the server's own paths.
 */
export function confinedPath(directory: string, file: string): string {
  const root = resolve(directory);
  mkdirSync(root, { recursive: true });
  const realRoot = realpathSync(root);
  const path = resolve(root, file);
  const outside = () =>
    invalid(`the archive path ${file} is not in the archive directory`, { field: 'file' });
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    let parent: string;
    try {
      parent = realpathSync(dirname(path));
    } catch {
      throw outside();
    }
    real = join(parent, basename(path));
    if (lstatSync(real, { throwIfNoEntry: false })) throw outside(); // a dangling link
  }
  const rel = relative(realRoot, real);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) throw outside();
  return real;
}

export async function archiveJob(
  ctx: EngineContext,
  jobId: number,
  options: { directory: string; fileName?: string },
): Promise<string> {
  return inTransaction(ctx, async (tx, emit) => {
    const job = await lockedJob(ctx, tx, jobId);
    if (job.archived_at !== null)
      throw new DroverError('CONFLICT', `job ${jobId} is archived already`);
    const now = ctx.clock();
    await stopExecutions(ctx, tx, emit, await liveExecutionsOfJob(tx, jobId));
    const running = await tasksInStates(tx, jobId, ['RUNNING']);
    await moveTasks(ctx, tx, emit, jobId, running, 'retry');
    const current = (await findJob(tx, jobId))!;
    const jobType = await findJobType(tx, job.job_type_id);
    const type = { name: jobType?.name ?? 'unknown', version: jobType?.version ?? '1' };
    const content: ArchiveFile = {
      format: ARCHIVE_FORMAT,
      version: 1,
      archivedAt: now,
      job: current,
      type,
      tasks: await tasksOfJob(tx, jobId),
      nodeList: await nodeListOf(tx, jobId),
      dependencies: await dependenciesOf(tx, jobId),
      executions: await executionsOfJob(tx, jobId),
    };
    const path = confinedPath(options.directory, options.fileName ?? `job-${jobId}.json`);
    // Written before the commit: a file that cannot be written leaves the job as it was.
    writeFileSync(path, JSON.stringify(content));
    await insertArchiveRecord(tx, jobId, path, now);
    await updateJob(tx, jobId, {
      archived_at: now,
      deleted_at: job.deleted_at ?? now,
      last_modified: now,
    });
    emit({ type: 'job.updated', jobId, fields: ['archived'] });
    if (job.deleted_at === null) emit({ type: 'job.deleted', jobId, purged: false });
    return path;
  });
}

/** Reads an archive; `name` is the file as the caller named it, for messages. */
function readArchive(path: string, name: string): ArchiveFile {
  let parsed: Partial<ArchiveFile>;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<ArchiveFile>;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw invalid(code === 'ENOENT' ? `no archive file ${name}` : `${name} is not a job archive`, {
      field: 'file',
    });
  }
  if (parsed.format !== ARCHIVE_FORMAT || !parsed.job || !Array.isArray(parsed.tasks)) {
    throw invalid(`${name} is not a Drover job archive`, { field: 'file' });
  }
  return parsed as ArchiveFile;
}

export interface ImportResult {
  jobId: number;
  /** The job was still in the database and came back as it was. */
  restored: boolean;
}

export async function importArchive(
  ctx: EngineContext,
  file: string,
  options: { directory: string; deleteFile?: boolean },
): Promise<ImportResult> {
  const path = confinedPath(options.directory, file);
  const archive = readArchive(path, file);
  const result = await inTransaction(ctx, async (tx, emit): Promise<ImportResult> => {
    const now = ctx.clock();
    const existing = await findJob(tx, archive.job.id);
    if (
      existing &&
      existing.archived_at !== null &&
      existing.created_at === archive.job.created_at
    ) {
      await lockedJob(ctx, tx, existing.id);
      await updateJob(tx, existing.id, { archived_at: null, deleted_at: null, last_modified: now });
      emit({ type: 'job.undeleted', jobId: existing.id });
      return { jobId: existing.id, restored: true };
    }
    if (existing && existing.created_at === archive.job.created_at) {
      throw new DroverError('CONFLICT', `job ${existing.id} is in the repository already`);
    }
    const type = await findJobTypeByName(tx, archive.type.name, archive.type.version);
    if (!type) {
      throw invalid(`the archive needs job type ${archive.type.name} ${archive.type.version}`);
    }
    const revision = await findRevision(tx, type.id, type.latest_revision);
    if (!revision) throw invalid(`job type ${type.name} has no revision ${type.latest_revision}`);
    // Work that was running when it was archived starts again.
    const state = archive.job.state === 'RUNNING' ? 'QUEUED' : archive.job.state;
    const row: Partial<JobRow> = { ...archive.job };
    delete row.id;
    const jobId = await insertJob(tx, {
      ...(row as Omit<JobRow, 'id'>),
      job_type_id: type.id,
      job_type_rev_id: Number(revision.id),
      state,
      batch_id: null,
      event_id: null,
      num_exes: 0,
      // The jobs that waited on it frame by frame lost their edges when it was archived.
      frame_dependents: 0,
      deleted_at: null,
      archived_at: null,
      last_modified: now,
    });
    await insertTasks(
      tx,
      archive.tasks.map(({ id: _t, ...task }) => ({
        ...task,
        job_id: jobId,
        state: task.state === 'RUNNING' ? 'QUEUED' : task.state,
        node_id: null,
        last_execution_id: null,
      })),
    );
    await setNodeList(tx, jobId, archive.nodeList);
    const present = await findJobs(tx, archive.dependencies);
    // A job that waited frame by frame does so again (every edge of such a job is by frame,
    // but for OpenJD steps, which are never archived alone).
    await addDependencies(
      tx,
      jobId,
      present.map((j) => j.id),
      row.frame_dependent === 1,
    );
    await recountTasks(tx, jobId, now);
    emit({ type: 'job.created', jobId, state });
    return { jobId, restored: false };
  });
  if (options.deleteFile) rmSync(path, { force: true });
  return result;
}
