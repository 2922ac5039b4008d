import { MAX_FRAME_OFFSET } from '../../domain/job-bounds.js';
import type { SubmitJobSpec } from '../../engine/jobs/job-submission.js';
import type { DialectData } from './dialect-data.js';
import { badRequest } from './errors.js';
import { fromDeadlineId } from './ids.js';
import { JOB_INFO_DAY_KEY, scheduleOfJobInfo } from './schedule.js';
import { TIMEOUT_ACTION_OF, type OnComplete, type OnTaskTimeout } from './state-mapping.js';
import { asBool, asInt, asList, asNumber, asString, keyed } from './values.js';

/*
 * JobInfo → the engine's submission. Keys are read without regard to case and values as
 * strings or typed JSON (reference §6). Everything sent is kept in the dialect JSON, so
 * keys Drover does not act on are shown back rather than rejected.
 */

/** JobInfo keys this face knows (lower case); anything else is shown back in ExtraElements. */
const KNOWN = new Set(
  [
    'Plugin',
    'Name',
    'Frames',
    'Comment',
    'Department',
    'BatchName',
    'UserName',
    'MachineName',
    'Pool',
    'SecondaryPool',
    'Group',
    'Priority',
    'ChunkSize',
    'ConcurrentTasks',
    'LimitConcurrentTasksToNumberOfCpus',
    'OnJobComplete',
    'SynchronizeAllAuxiliaryFiles',
    'ForceReloadPlugin',
    'Sequential',
    'SuppressEvents',
    'Protected',
    'InitialStatus',
    'NetworkRoot',
    'Region',
    'MinRenderTimeSeconds',
    'MinRenderTimeMinutes',
    'TaskTimeoutSeconds',
    'TaskTimeoutMinutes',
    'StartJobTimeoutSeconds',
    'StartJobTimeoutMinutes',
    'InitializePluginTimeoutSeconds',
    'OnTaskTimeout',
    'EnableTimeoutsForScriptTasks',
    'EnableFrameTimeouts',
    'EnableAutoTimeout',
    'Interruptible',
    'InterruptiblePercentage',
    'RemTimeThreshold',
    'NotificationTargets',
    'ClearNotificationTargets',
    'NotificationEmails',
    'OverrideNotificationMethod',
    'EmailNotification',
    'PopupNotification',
    'NotificationNote',
    'MachineLimit',
    'MachineLimitProgress',
    'Whitelist',
    'Blacklist',
    'Allowlist',
    'Denylist',
    'LimitGroups',
    'JobDependencies',
    'JobDependencyPercentage',
    'IsFrameDependent',
    'FrameDependencyOffsetStart',
    'FrameDependencyOffsetEnd',
    'ResumeOnCompleteDependencies',
    'ResumeOnDeletedDependencies',
    'ResumeOnFailedDependencies',
    'RequiredAssets',
    'ScriptDependencies',
    'OverrideJobFailureDetection',
    'FailureDetectionJobErrors',
    'OverrideTaskFailureDetection',
    'FailureDetectionTaskErrors',
    'IgnoreBadJobDetection',
    'SendJobErrorWarning',
    'DeleteOnComplete',
    'ArchiveOnComplete',
    'OverrideAutoJobCleanup',
    'OverrideJobCleanup',
    'JobCleanupDays',
    'OverrideJobCleanupType',
    'ScheduledType',
    'ScheduledStartDateTime',
    'ScheduledStopDateTime',
    'ScheduledDays',
    'JobDelay',
    'PreJobScript',
    'PostJobScript',
    'PreTaskScript',
    'PostTaskScript',
    'EventOptIns',
    'IncludeEnvironment',
    'UseJobEnvironmentOnly',
    'CustomPluginDirectory',
    'OverrideTaskExtraInfoNames',
    'TileJob',
    'TileJobFrame',
    'TileJobTilesInX',
    'TileJobTilesInY',
    'TileJobTileCount',
    'MaintenanceJob',
    'MaintenanceJobStartFrame',
    'MaintenanceJobEndFrame',
  ].map((k) => k.toLowerCase()),
);
const KNOWN_INDEXED =
  /^(EnvironmentKeyValue\d+|ExtraInfo\d|ExtraInfoKeyValue\d+|TaskExtraInfoName\d|OutputDirectory\d+|OutputFilename\d+(Tile)?)$/i;

export function unknownJobInfoKeys(jobInfo: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(jobInfo).filter(
      ([k]) => !KNOWN.has(k.toLowerCase()) && !KNOWN_INDEXED.test(k) && !JOB_INFO_DAY_KEY.test(k),
    ),
  );
}

export interface Submission {
  plugin: string;
  spec: Omit<SubmitJobSpec, 'type' | 'user'> & { user?: string };
  dialect: DialectData;
}

/** Deadline's "none" pool or group is Drover's "any" (''). */
export const fromNone = (v: string | undefined): string | undefined =>
  v === undefined ? undefined : v.trim().toLowerCase() === 'none' ? '' : v.trim();

export function parseJobInfo(
  jobInfo: Record<string, unknown>,
  pluginInfo: Record<string, unknown>,
  aux: string[],
): Submission {
  const get = keyed(jobInfo);
  const plugin = asString(get('Plugin'))?.trim();
  if (!plugin) throw badRequest('JobInfo must name a Plugin');

  const int = (key: string, min = Number.MIN_SAFE_INTEGER): number | undefined => {
    const raw = get(key);
    if (raw === undefined || raw === null || raw === '') return undefined;
    const n = asInt(raw);
    if (n === undefined || n < min) {
      throw badRequest(`JobInfo ${key} must be a whole number${min > 0 ? ` >= ${min}` : ''}`);
    }
    return n;
  };

  const spec: Submission['spec'] = {};
  const name = asString(get('Name'));
  spec.name = name?.trim() ? name : 'Untitled';
  const user = asString(get('UserName'))?.trim();
  if (user) spec.user = user;
  const comment = asString(get('Comment'));
  if (comment !== undefined) spec.comment = comment;
  const department = asString(get('Department'));
  if (department !== undefined) spec.department = department;
  // A job without frames renders frame 0 (reference §7).
  spec.frames = asString(get('Frames'))?.trim() || '0';
  const chunk = int('ChunkSize', 1);
  if (chunk !== undefined) spec.chunkSize = chunk;
  const priority = int('Priority', 0);
  if (priority !== undefined) spec.priority = priority;
  const pool = fromNone(asString(get('Pool')));
  if (pool !== undefined) spec.pool = pool;
  const group = fromNone(asString(get('Group')));
  if (group !== undefined) spec.group = group;
  const limit = int('MachineLimit', 0);
  if (limit !== undefined) spec.machineLimit = limit;
  const release = asNumber(get('MachineLimitProgress'));
  if (release !== undefined) spec.machineLimitRelease = release < 0 ? -1 : release;

  const allow = [...asList(get('Whitelist')), ...asList(get('Allowlist'))];
  const deny = [...asList(get('Blacklist')), ...asList(get('Denylist'))];
  if (allow.length > 0 && deny.length > 0) {
    throw badRequest(
      'JobInfo may give an allow list (Whitelist) or a deny list (Blacklist), not both',
    );
  }
  // Deadline takes limit names no limit has yet; such a job waits until one is made.
  const limits = asList(get('LimitGroups'));
  if (limits.length > 0) {
    spec.limits = limits;
    spec.acceptUnknownLimits = true;
  }
  if (allow.length > 0) spec.allowList = allow;
  if (deny.length > 0) spec.denyList = deny;
  const white =
    allow.length > 0 || get('Whitelist') !== undefined || get('Allowlist') !== undefined;

  const dependencies = asList(get('JobDependencies')).map((text) => {
    const id = fromDeadlineId(text);
    if (id === undefined)
      throw badRequest(`JobDependencies holds "${text}", which is not a job ID`);
    return id;
  });
  if (dependencies.length > 0) spec.dependencies = dependencies;
  // Deadline's dependents of a failed job stay pending unless told to resume anyway.
  spec.onDependencyFailure = asBool(get('ResumeOnFailedDependencies')) ? 'RUN' : 'WAIT';
  if (asBool(get('IsFrameDependent'))) {
    spec.frameDependent = true;
    // Frame N waits for frames N+start..N+end of the jobs it depends on.
    const start = asNumber(get('FrameDependencyOffsetStart')) ?? 0;
    const end = asNumber(get('FrameDependencyOffsetEnd')) ?? 0;
    for (const [key, v] of [
      ['FrameDependencyOffsetStart', start],
      ['FrameDependencyOffsetEnd', end],
    ] as const) {
      if (!Number.isSafeInteger(v) || Math.abs(v) > MAX_FRAME_OFFSET) {
        throw badRequest(
          `JobInfo ${key} must be an integer from -${MAX_FRAME_OFFSET} to ${MAX_FRAME_OFFSET}`,
        );
      }
    }
    if (start > end) {
      throw badRequest(
        `JobInfo FrameDependencyOffsetStart (${start}) must not be above FrameDependencyOffsetEnd (${end})`,
      );
    }
    if (start !== 0) spec.frameOffsetStart = start;
    if (end !== 0) spec.frameOffsetEnd = end;
  }

  const initial = asString(get('InitialStatus'))?.trim().toLowerCase();
  if (initial === 'suspended') spec.initialState = 'SUSPENDED';
  else if (initial === 'pending') spec.initialState = 'PENDING';
  else if (initial !== undefined && initial !== '' && initial !== 'active') {
    throw badRequest(`JobInfo InitialStatus must be Active or Suspended, not "${initial}"`);
  }

  const timeoutSeconds = asNumber(get('TaskTimeoutSeconds'));
  const timeoutMinutes = asNumber(get('TaskTimeoutMinutes'));
  const timeout =
    timeoutSeconds ?? (timeoutMinutes !== undefined ? timeoutMinutes * 60 : undefined);
  if (timeout !== undefined && timeout > 0) spec.taskTimeout = Math.ceil(timeout);
  spec.taskTimeoutAction = TIMEOUT_ACTION_OF[onTaskTimeoutOf(get('OnTaskTimeout'))];

  // Task failure detection: the errors a task may have before it fails is Drover's tries.
  if (asBool(get('OverrideTaskFailureDetection'))) {
    const errors = int('FailureDetectionTaskErrors', 0);
    if (errors !== undefined && errors > 0) spec.maxTries = errors;
  }

  // The engine holds the flag: every face then refuses the job's removal to non-owners.
  if (asBool(get('Protected')) === true) spec.protected = true;

  const schedule = scheduleOfJobInfo(jobInfo, get);
  if (schedule !== undefined) spec.schedule = schedule;

  const dialect: DialectData = {
    deadline: { plugin, jobInfo, pluginInfo, aux, white, props: {} },
  };
  const onComplete = onCompleteOf(
    get('OnJobComplete'),
    asBool(get('DeleteOnComplete')),
    asBool(get('ArchiveOnComplete')),
  );
  if (onComplete === 'archive' || onComplete === 'delete') dialect.onComplete = onComplete;
  return { plugin, spec, dialect };
}

export function onCompleteOf(
  value: unknown,
  deleteOnComplete?: boolean,
  archiveOnComplete?: boolean,
): OnComplete {
  if (typeof value === 'number') {
    return value === 0 ? 'archive' : value === 1 ? 'delete' : 'nothing';
  }
  const text = asString(value)?.trim().toLowerCase();
  if (text === 'archive' || text === '0') return 'archive';
  if (text === 'delete' || text === '1') return 'delete';
  if (text === undefined || text === '') {
    if (archiveOnComplete) return 'archive';
    if (deleteOnComplete) return 'delete';
    return 'nothing';
  }
  if (text === 'nothing' || text === '2') return 'nothing';
  throw badRequest(`OnJobComplete must be Archive, Delete or Nothing, not "${String(value)}"`);
}

/**
 * OnTaskTimeout by name (Error, Notify, ErrorAndNotify, Complete; Both as Deadline's enum
 * calls ErrorAndNotify) or by its Props.Timeout code; none means Error.
 */
export function onTaskTimeoutOf(value: unknown): OnTaskTimeout {
  const text = typeof value === 'number' ? String(value) : asString(value)?.trim().toLowerCase();
  if (text === undefined || text === '' || text === 'error' || text === '1') return 'error';
  if (text === 'errorandnotify' || text === 'both' || text === '0') return 'both';
  if (text === 'notify' || text === '2') return 'notify';
  if (text === 'complete' || text === '3') return 'complete';
  throw badRequest(
    `OnTaskTimeout must be Error, Notify, ErrorAndNotify or Complete, not "${String(value)}"`,
  );
}
