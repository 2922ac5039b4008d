import type { JobState } from '../../domain/job-state.js';
import type { Principal } from '../../engine/accounts/accounts.js';
import { assertMayChangeJob, assertMayRemove } from '../../engine/accounts/permissions.js';
import {
  applyJobAction,
  undeleteJob,
  updateJobSettings,
  type JobAction,
  type JobChanges,
} from '../../engine/jobs/job-actions.js';
import { archiveJob, importArchive } from '../../engine/jobs/job-archives.js';
import { appendJobFrameRange, setJobFrameRange } from '../../engine/tasks/frame-range-changes.js';
import { nodeListOf } from '../../store/jobs.js';
import { archiveFileName } from './archive-names.js';
import type { DeadlineContext } from './context.js';
import { badRequest, serverError } from './errors.js';
import { toDeadlineId } from './ids.js';
import { jobOf } from './job-lookup.js';
import { saveCommand, setMachineList } from './job-save.js';
import { refuseForSteps, withStepJobIds } from './step-jobs.js';
import { asBool, asInt, asList, asNumber, asString } from './values.js';

/*
 * PUT /api/jobs {"Command": …}. Commands answer `Success` (undefined here) or, for import,
 * the ids imported and not. A state command on a job already in the state it asks for is
 * a success that changes nothing, as in Deadline; one the job's state forbids is a 500.
 */

const STATE_COMMANDS: Record<string, { action: JobAction; noop: (s: JobState) => boolean }> = {
  suspend: { action: 'suspend', noop: (s) => s === 'SUSPENDED' },
  suspendnonrendering: { action: 'suspend-queued', noop: (s) => s === 'SUSPENDED' },
  resume: { action: 'resume', noop: (s) => s !== 'SUSPENDED' },
  resumefailed: { action: 'resume-failed', noop: (s) => s !== 'FAILED' && s !== 'CANCELED' },
  requeue: { action: 'requeue', noop: (s) => s === 'PENDING' },
  pend: { action: 'pend', noop: (s) => s === 'PENDING' },
  releasepending: { action: 'release', noop: (s) => s !== 'PENDING' },
  complete: { action: 'complete', noop: (s) => s === 'COMPLETED' },
  fail: { action: 'fail', noop: (s) => s === 'FAILED' || s === 'CANCELED' },
};

const LIST_COMMANDS = new Set([
  'addslavestojobmachinelimitlist',
  'removeslavesfromjobmachinelimitlist',
  'setjobmachinelimitlistedslaves',
]);

const OTHER_COMMANDS = new Set([
  'save',
  'archive',
  'import',
  'updatesubmissiondate',
  'setjobmachinelimit',
  'setjobmachinelimitwhitelistflag',
  'setjobmachinelimitmaximum',
  'setjobframerange',
  'appendjobframerange',
  'undelete',
  ...LIST_COMMANDS,
]);

const NO_JOB_ID = 'There was no JobID entry in the JSON object in the message body.';

export async function runJobCommand(
  dc: DeadlineContext,
  principal: Principal | undefined,
  body: Record<string, unknown>,
): Promise<unknown> {
  const ctx = dc.engine.ctx;
  const commandValue = body.Command ?? body.command;
  if (commandValue === undefined || commandValue === null) {
    throw badRequest('There was no Command entry in the JSON object in the message body.');
  }
  const command = (asString(commandValue) ?? '').trim().toLowerCase();
  if (!(command in STATE_COMMANDS) && !OTHER_COMMANDS.has(command)) {
    throw serverError(`The command "${asString(commandValue)}" is not a valid command.`);
  }

  if (command === 'import') return importCommand(dc, body);
  if (command === 'undelete') {
    const ids = asList(body.JobIDs ?? body.JobID);
    if (ids.length === 0) throw badRequest('Need to provide at least one job ID to undelete.');
    const jobs = [];
    for (const text of ids) jobs.push(await jobOf(ctx, text, { deleted: true }));
    for (const job of jobs) await assertMayChangeJob(ctx, principal, job.id);
    for (const job of jobs) {
      for (const id of await withStepJobIds(ctx, job)) await undeleteJob(ctx, id);
    }
    return undefined;
  }
  if (command === 'save') return saveCommand(dc, principal, body);

  if (body.JobID === undefined || body.JobID === null || asString(body.JobID)?.trim() === '') {
    throw badRequest(NO_JOB_ID);
  }
  const job = await jobOf(ctx, body.JobID);
  // Owners change their jobs, admins any, granted users those their grants reach.
  await assertMayChangeJob(ctx, principal, job.id);
  const state = job.state as JobState;

  const stateCommand = STATE_COMMANDS[command];
  if (stateCommand) {
    if (stateCommand.noop(state)) return undefined;
    // A canceled job (Failed here) comes back by a requeue: it has no failed tasks to resume.
    const action =
      command === 'resumefailed' && state === 'CANCELED' ? 'requeue' : stateCommand.action;
    await applyJobAction(ctx, job.id, action);
    return undefined;
  }

  switch (command) {
    case 'archive':
      assertMayRemove(principal, job, 'archive');
      await archiveJob(ctx, job.id, {
        directory: dc.archiveDir,
        fileName: archiveFileName(job),
      });
      return undefined;
    case 'updatesubmissiondate':
      await updateJobSettings(ctx, job.id, { submittedAt: ctx.clock() });
      return undefined;
    case 'setjobmachinelimitmaximum': {
      const limit = asInt(body.Limit);
      if (limit === undefined || limit < 0) throw badRequest('Must pass an integer Limit.');
      await updateJobSettings(ctx, job.id, { machineLimit: limit });
      return undefined;
    }
    case 'setjobmachinelimitwhitelistflag': {
      const white =
        typeof body.WhiteListFlag === 'boolean' ? body.WhiteListFlag : asBool(body.WhiteListFlag);
      if (white === undefined) throw badRequest('Must pass a boolean WhiteListFlag.');
      await setMachineList(dc, job, { white });
      return undefined;
    }
    case 'setjobmachinelimit': {
      const changes: JobChanges = {};
      if (body.Limit !== undefined) {
        const limit = asInt(body.Limit);
        if (limit === undefined || limit < 0) throw badRequest('Must pass an integer Limit.');
        changes.machineLimit = limit;
      }
      const white = body.WhiteListFlag === undefined ? undefined : asBool(body.WhiteListFlag);
      const progress = body.Progress === undefined ? undefined : asNumber(body.Progress);
      if (body.Progress !== undefined && progress === undefined) {
        throw badRequest('Progress must be a number.');
      }
      // The release percentage; Deadline's -1 (or any negative) means never.
      if (progress !== undefined) changes.machineLimitRelease = progress < 0 ? -1 : progress;
      await setMachineList(dc, job, {
        ...(body.SlaveList !== undefined ? { names: asList(body.SlaveList) } : {}),
        ...(white !== undefined ? { white } : {}),
        extra: changes,
        ...(progress !== undefined ? { props: { MachLmtProg: progress } } : {}),
      });
      return undefined;
    }
    case 'setjobframerange': {
      await refuseForSteps(ctx, job);
      const frames = asString(body.FrameList);
      if (!frames?.trim()) throw badRequest('There was no FrameList entry in the JSON object.');
      const chunk = body.ChunkSize === undefined ? undefined : asInt(body.ChunkSize);
      if (body.ChunkSize !== undefined && (chunk === undefined || chunk < 1)) {
        throw badRequest('ChunkSize must be a whole number of at least 1.');
      }
      await setJobFrameRange(ctx, job.id, frames, chunk);
      return undefined;
    }
    case 'appendjobframerange': {
      await refuseForSteps(ctx, job);
      const frames = asString(body.FrameList);
      if (!frames?.trim()) throw badRequest('There was no FrameList entry in the JSON object.');
      await appendJobFrameRange(ctx, job.id, frames);
      return undefined;
    }
  }
  // The three list commands.
  const names = asList(body.SlaveList);
  if (names.length === 0) throw badRequest('There needs to be at least one Worker passed.');
  const current = await nodeListOf(ctx.db, job.id);
  const next =
    command === 'addslavestojobmachinelimitlist'
      ? [...current, ...names]
      : command === 'removeslavesfromjobmachinelimitlist'
        ? current.filter((n) => !names.includes(n))
        : names;
  await setMachineList(dc, job, { names: next });
  return undefined;
}

async function importCommand(
  dc: DeadlineContext,
  body: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const files = asList(body.File);
  if (files.length === 0) throw badRequest('There was no File path provided.');
  const deleteFile = asBool(body.DeleteFile) === true;
  const imported: string[] = [];
  const notImported: Array<{ File: string; Error: string }> = [];
  for (const file of files) {
    try {
      const { jobId } = await importArchive(dc.engine.ctx, file, {
        directory: dc.archiveDir,
        deleteFile,
      });
      imported.push(toDeadlineId(jobId));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      notImported.push({ File: file, Error: message });
    }
  }
  return { Imported: imported, NotImported: notImported };
}
