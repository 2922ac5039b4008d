import type { JobState } from '../../domain/job-state.js';
import { priorityFromDeadline } from '../../domain/priority.js';
import type { Principal } from '../../engine/accounts/accounts.js';
import {
  assertMayChangeJob,
  assertMayProtectJob,
  assertMayRemove,
} from '../../engine/accounts/permissions.js';
import {
  applyJobAction,
  undeleteJob,
  updateJobSettings,
  type JobAction,
  type JobChanges,
} from '../../engine/jobs/job-actions.js';
import { archiveJob, importArchive } from '../../engine/jobs/job-archives.js';
import { appendJobFrameRange, setJobFrameRange } from '../../engine/tasks/frame-range-changes.js';
import { findJobType } from '../../store/job-types.js';
import { nodeListOf } from '../../store/jobs.js';
import type { JobRow } from '../../store/schema.js';
import { archiveFileName } from './archive-names.js';
import type { DeadlineContext } from './context.js';
import { deadlineDataOf, dialectOf, type DialectData } from './dialect-data.js';
import { badRequest, DeadlineError, serverError } from './errors.js';
import { toDeadlineId } from './ids.js';
import { fromNone, onCompleteOf, onTaskTimeoutOf } from './job-info.js';
import { renderJob } from './job-json.js';
import { jobOf } from './job-lookup.js';
import { jobViews } from './job-views.js';
import { pluginParameters } from './plugins.js';
import { dependencyIdsOf, sameIds, samePlugInfo } from './saved-dep-plug-info.js';
import { SCHEDULE_PROPS, scheduleOfProps } from './schedule.js';
import { ON_TIMEOUT_CODES, TIMEOUT_ACTION_OF } from './state-mapping.js';
import { asBool, asInt, asList, asNumber, asString, isRecord } from './values.js';

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
    for (const job of jobs) await undeleteJob(ctx, job.id);
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

/** Sets the listed workers and/or the allow-list flag, with other settings in one change. */
async function setMachineList(
  dc: DeadlineContext,
  job: JobRow,
  change: {
    names?: string[];
    white?: boolean;
    extra?: JobChanges;
    props?: Record<string, unknown>;
  },
): Promise<void> {
  const ctx = dc.engine.ctx;
  const data = deadlineDataOf(dialectOf(job));
  const white =
    change.white ??
    (job.node_list_mode === 'ALLOW' ? true : job.node_list_mode === 'DENY' ? false : !!data?.white);
  const names = [...new Set(change.names ?? (await nodeListOf(ctx.db, job.id)))];
  await updateJobSettings(ctx, job.id, {
    ...change.extra,
    ...(white ? { allowList: names, denyList: [] } : { allowList: [], denyList: names }),
    dialect: (current) =>
      withDeadline(current as DialectData, (d) => {
        d.white = white;
        Object.assign(d.props, change.props ?? {});
      }),
  });
}

/** Applies `edit` to the Deadline part of a dialect JSON, creating it for foreign jobs. */
export function withDeadline(
  current: DialectData,
  edit: (data: NonNullable<DialectData['deadline']>) => void,
): DialectData {
  const existing = deadlineDataOf(current);
  const data = existing
    ? { ...existing, props: { ...(existing.props ?? {}) } }
    : { plugin: '', jobInfo: {}, pluginInfo: {}, aux: [], white: false, props: {} };
  edit(data);
  // A job submitted elsewhere keeps showing its own plugin.
  const next: DialectData = { ...current, deadline: data };
  if (!existing && data.plugin === '') {
    const rest: Partial<typeof data> = { ...data };
    delete rest.plugin;
    next.deadline = rest as NonNullable<DialectData['deadline']>;
  }
  return next;
}

/** Props that the engine holds, and how a saved value changes it. */
const HELD: Record<string, (v: unknown, c: JobChanges) => void> = {
  Name: (v, c) => {
    const s = asString(v);
    if (s?.trim()) c.name = s;
  },
  Cmmt: (v, c) => (c.comment = asString(v) ?? ''),
  Dept: (v, c) => (c.department = asString(v) ?? ''),
  Pri: (v, c) => {
    const n = asInt(v);
    if (n === undefined || n < 0) throw badRequest('Props.Pri must be a whole number.');
    c.priority = priorityFromDeadline(n);
  },
  Pool: (v, c) => (c.pool = fromNone(asString(v) ?? '') ?? ''),
  Grp: (v, c) => (c.group = fromNone(asString(v) ?? '') ?? ''),
  MachLmt: (v, c) => {
    const n = asInt(v);
    if (n === undefined || n < 0) throw badRequest('Props.MachLmt must be a whole number.');
    c.machineLimit = n;
  },
  MaxTime: (v, c) => {
    const n = asNumber(v);
    if (n === undefined || n < 0) throw badRequest('Props.MaxTime must be a number of seconds.');
    c.taskTimeout = Math.ceil(n);
  },
  Protect: (v, c) => {
    const b = asBool(v);
    if (b === undefined) throw badRequest('Props.Protect must be true or false.');
    c.protected = b;
  },
};
/** Props that describe the job's shape or history: a save cannot change them. */
const READ_ONLY = new Set(['Frames', 'Chunk', 'Tasks', 'User']);

async function saveCommand(
  dc: DeadlineContext,
  principal: Principal | undefined,
  body: Record<string, unknown>,
): Promise<undefined> {
  const ctx = dc.engine.ctx;
  const doc = body.Job;
  if (!isRecord(doc))
    throw badRequest('There was no Job entry in the JSON object in the message body.');
  if (doc._id === undefined) throw badRequest('The Job entry has no _id.');
  const job = await jobOf(ctx, doc._id);
  await assertMayChangeJob(ctx, principal, job.id);
  const props = isRecord(doc.Props) ? doc.Props : {};
  const [view] = await jobViews(ctx, [job]);
  const shown = renderJob(view!).Props as Record<string, unknown>;
  const changes: JobChanges = {};
  const saved: Record<string, unknown> = {};
  let onComplete: DialectData['onComplete'];
  let plugInfo: Record<string, unknown> | undefined;
  let scheduleChanged = false;
  for (const [key, value] of Object.entries(props)) {
    if (!(key in shown) || READ_ONLY.has(key)) continue;
    if (SCHEDULE_PROPS.includes(key)) {
      // The engine holds the schedule; read whole once the loop has seen every Prop.
      scheduleChanged ||= JSON.stringify(shown[key]) !== JSON.stringify(value);
      continue;
    }
    if (key === 'Dep') {
      // Judged by the ids: the list sent back unchanged, in any form or order, is left alone.
      const ids = dependencyIdsOf(value);
      if (!sameIds(ids, view!.dependencies)) changes.dependencies = ids;
      continue;
    }
    if (key === 'PlugInfo') {
      if (!isRecord(value))
        throw badRequest('Props.PlugInfo must be an object of plugin settings.');
      if (!samePlugInfo(value, shown.PlugInfo as Record<string, unknown>)) plugInfo = value;
      continue;
    }
    if (JSON.stringify(shown[key]) === JSON.stringify(value)) continue;
    const held = HELD[key];
    if (held) held(value, changes);
    else if (key === 'OnComp') {
      try {
        onComplete = onCompleteOf(typeof value === 'string' ? value : asInt(value));
      } catch (error) {
        if (error instanceof DeadlineError) throw badRequest('Props.OnComp must be 0, 1 or 2.');
        throw error;
      }
    } else if (key === 'Timeout') {
      let onTimeout;
      try {
        onTimeout = onTaskTimeoutOf(
          typeof value === 'string' || typeof value === 'number' ? value : Number.NaN,
        );
      } catch (error) {
        if (error instanceof DeadlineError) throw badRequest('Props.Timeout must be 0, 1, 2 or 3.');
        throw error;
      }
      changes.taskTimeoutAction = TIMEOUT_ACTION_OF[onTimeout];
      // Kept only to tell Both (0) from Error (1); the engine holds the action.
      saved.Timeout = ON_TIMEOUT_CODES[onTimeout];
    } else if (key !== 'ListedSlaves' && key !== 'White') saved[key] = value;
  }
  if (scheduleChanged) {
    // What was sent over what is shown: Schd 2 alone makes the shown SchdDate daily.
    const merged = Object.fromEntries(
      SCHEDULE_PROPS.map((key) => [key, key in props ? props[key] : shown[key]]),
    );
    changes.schedule = scheduleOfProps(merged);
  }
  if (changes.protected !== undefined) {
    await assertMayProtectJob(ctx, principal, job.id, changes.protected);
  }
  if (plugInfo) {
    const type = await findJobType(ctx.db, job.job_type_id);
    if (type) changes.parameters = pluginParameters(type, plugInfo);
  }
  const listChanged =
    JSON.stringify(shown.ListedSlaves) !==
      JSON.stringify(props.ListedSlaves ?? shown.ListedSlaves) ||
    (props.White !== undefined && asBool(props.White) !== shown.White);
  if (listChanged) {
    await setMachineList(dc, job, {
      names: asList(props.ListedSlaves ?? shown.ListedSlaves),
      white: asBool(props.White ?? shown.White) === true,
      extra: changes,
      props: saved,
    });
  }
  await updateJobSettings(ctx, job.id, {
    ...(listChanged ? {} : changes),
    dialect: (current) => {
      const next = withDeadline(current as DialectData, (d) => {
        Object.assign(d.props, saved);
        // A job of another face shows its parameters as PlugInfo; only a Deadline job keeps it.
        if (plugInfo && d.plugin) d.pluginInfo = { ...plugInfo };
      });
      if (onComplete !== undefined) next.onComplete = onComplete;
      return next;
    },
  });
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
