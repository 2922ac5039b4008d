import type { JobState } from '../../domain/job-state.js';
import { priorityToDeadline } from '../../domain/priority.js';
import { taskTimeoutActionOf } from '../../domain/task-timeout-action.js';
import type { JobRow } from '../../store/schema.js';
import { joinArguments, untranslateTokens } from './command-line.js';
import { deadlineDataOf, dialectOf } from './dialect-data.js';
import { toDeadlineId } from './ids.js';
import { onCompleteOf, onTaskTimeoutOf, unknownJobInfoKeys } from './job-info.js';
import { pluginOfType } from './plugins.js';
import { SCHEDULE_PROPS, scheduleProps } from './schedule.js';
import { JOB_STAT_OF, ON_COMPLETE_CODES, ON_TIMEOUT_CODES } from './state-mapping.js';
import { asBool, asInt, asNumber, asString, keyed } from './values.js';

/*
 * The job document of Deadline 10 (reference §3): `_id`, `Props` in Deadline's order,
 * dates as RFC 3339 with 0001-01-01T00:00:00Z for unset, numeric enums as numbers. Values
 * the engine holds come from the job row; the rest from the JobInfo the job was submitted
 * with (or Deadline's defaults, for jobs submitted through another face).
 */

export const UNSET_DATE = '0001-01-01T00:00:00Z';

export const deadlineDate = (ms: number | null | undefined): string =>
  ms === null || ms === undefined ? UNSET_DATE : new Date(ms).toISOString();

export interface JobView {
  job: JobRow;
  typeName: string;
  nodes: string[];
  dependencies: number[];
  /** The limits the engine holds for the job (LimitGroups, in lower case). */
  limits: string[];
  /** Failed executions of the job (Deadline's Errs). */
  errors: number;
  /** A multi-step job's steps, by name (step-jobs.ts); its row carries their task counts. */
  steps?: string[];
}

/** Indexed JobInfo keys `<prefix>N` in index order, e.g. ExtraInfoKeyValue0, 1, … */
function indexed(jobInfo: Record<string, unknown>, prefix: RegExp): Array<[number, string]> {
  const out: Array<[number, string]> = [];
  for (const [k, v] of Object.entries(jobInfo)) {
    const m = prefix.exec(k);
    if (m?.[1] !== undefined) out.push([Number(m[1]), asString(v) ?? '']);
  }
  return out.sort((a, b) => a[0] - b[0]);
}

function keyValues(pairs: Array<[number, string]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [, text] of pairs) {
    const at = text.indexOf('=');
    if (at > 0) out[text.slice(0, at)] = text.slice(at + 1);
  }
  return out;
}

const stringValues = (r: Record<string, unknown>): Record<string, string> =>
  Object.fromEntries(Object.entries(r).map(([k, v]) => [k, asString(v) ?? '']));

const list = (v: unknown): string[] =>
  (asString(v) ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** Saved Props the engine holds now; what a save left of them in the dialect JSON is stale. */
const ENGINE_HELD_SAVES = new Set(['Timeout', 'Protect']);

export function renderJob(view: JobView): Record<string, unknown> {
  const { job } = view;
  const dialect = dialectOf(job);
  const data = deadlineDataOf(dialect);
  const info = data?.jobInfo ?? {};
  const get = keyed(info);
  const saved = data?.props ?? {};
  const str = (key: string, fallback = ''): string => asString(get(key)) ?? fallback;
  const bool = (key: string, fallback = false): boolean => asBool(get(key)) ?? fallback;
  const num = (key: string, fallback: number): number => asNumber(get(key)) ?? fallback;
  const int = (key: string, fallback: number): number => asInt(get(key)) ?? fallback;
  const state = job.state as JobState;
  // A job submitted through another face has no plugin of its own (a save may still have
  // given it Deadline data): it shows as its job type, with its parameters as PlugInfo.
  const plugin = data?.plugin || pluginOfType(view.typeName);

  let plugInfo: Record<string, string>;
  if (data?.plugin) plugInfo = stringValues(data.pluginInfo ?? {});
  else {
    const parameters = JSON.parse(job.parameters_json) as Record<string, unknown>;
    plugInfo =
      plugin === 'CommandLine'
        ? {
            Executable: asString(parameters.executable) ?? '',
            Arguments: joinArguments(
              (Array.isArray(parameters.arguments) ? parameters.arguments : []).map((a) =>
                untranslateTokens(asString(a) ?? ''),
              ),
            ),
          }
        : stringValues(parameters);
  }

  const extraInfo = (i: number): string => str(`ExtraInfo${i}`);
  const exDic = keyValues(indexed(info, /^ExtraInfoKeyValue(\d+)$/i));
  const env = keyValues(indexed(info, /^EnvironmentKeyValue(\d+)$/i));
  const minSeconds = num('MinRenderTimeSeconds', num('MinRenderTimeMinutes', 0) * 60);
  const white =
    job.node_list_mode === 'ALLOW' ? true : job.node_list_mode === 'DENY' ? false : !!data?.white;

  const props: Record<string, unknown> = {
    Name: job.name,
    Batch: str('BatchName'),
    User: job.user_name,
    Region: str('Region'),
    Cmmt: job.comment,
    Dept: job.department,
    Frames: job.frames,
    Chunk: job.chunk_size,
    Tasks: job.task_count,
    Grp: job.grp === '' ? 'none' : job.grp,
    Pool: job.pool === '' ? 'none' : job.pool,
    SecPool: str('SecondaryPool'),
    Pri: priorityToDeadline(job.priority),
    ReqAss: list(get('RequiredAssets')),
    ScrDep: list(get('ScriptDependencies')).map((FileName) => ({
      FileName,
      Notes: '',
      IgnoreFrameOffsets: false,
    })),
    Conc: int('ConcurrentTasks', 1),
    ConcLimt: bool('LimitConcurrentTasksToNumberOfCpus', true),
    AuxSync: bool('SynchronizeAllAuxiliaryFiles'),
    Int: bool('Interruptible'),
    IntPer: int('InterruptiblePercentage', 100),
    RemTmT: str('RemTimeThreshold', '00:00:00'),
    Seq: bool('Sequential'),
    Reload: bool('ForceReloadPlugin'),
    NoEvnt: bool('SuppressEvents'),
    OnComp: ON_COMPLETE_CODES[dialect.onComplete ?? onCompleteOfSafe(get('OnJobComplete'))],
    Protect: job.protected === 1,
    PathMap: [],
    AutoTime: bool('EnableAutoTimeout'),
    TimeScrpt: bool('EnableTimeoutsForScriptTasks'),
    MinTime: minSeconds,
    MaxTime: job.task_timeout_s,
    Timeout: timeoutCodeOf(job, saved.Timeout ?? get('OnTaskTimeout')),
    FrameTimeout: bool('EnableFrameTimeouts'),
    StartTime: num('StartJobTimeoutSeconds', num('StartJobTimeoutMinutes', 0) * 60),
    InitializePluginTime: num('InitializePluginTimeoutSeconds', 0),
    Dep: view.dependencies.map((id) => ({
      JobID: toDeadlineId(id),
      Notes: '',
      IgnoreFrameOffsets: false,
    })),
    DepFrame: bool('IsFrameDependent'),
    DepFrameStart: job.frame_offset_start,
    DepFrameEnd: job.frame_offset_end,
    DepComp: bool('ResumeOnCompleteDependencies', true),
    DepDel: bool('ResumeOnDeletedDependencies'),
    DepFail: bool('ResumeOnFailedDependencies'),
    DepPer: num('JobDependencyPercentage', -1),
    NoBad: bool('IgnoreBadJobDetection'),
    OverAutoClean: bool('OverrideAutoJobCleanup'),
    OverClean: bool('OverrideJobCleanup'),
    OverCleanDays: int('JobCleanupDays', 0),
    OverCleanType: str('OverrideJobCleanupType').toLowerCase() === 'deletejobs' ? 2 : 1,
    JobFailOvr: bool('OverrideJobFailureDetection'),
    JobFailErr: int('FailureDetectionJobErrors', 0),
    TskFailOvr: bool('OverrideTaskFailureDetection'),
    TskFailErr: int('FailureDetectionTaskErrors', 0),
    SndWarn: bool('SendJobErrorWarning', true),
    NotOvr: bool('OverrideNotificationMethod'),
    SndEmail: bool('EmailNotification'),
    SndPopup: bool('PopupNotification'),
    NotEmail: list(get('NotificationEmails')),
    NotUser:
      get('NotificationTargets') !== undefined ? list(get('NotificationTargets')) : [job.user_name],
    NotNote: str('NotificationNote'),
    Limits: view.limits,
    ListedSlaves: view.nodes,
    White: white,
    MachLmt: job.machine_limit,
    MachLmtProg: num('MachineLimitProgress', -1),
    PrJobScrp: str('PreJobScript'),
    PoJobScrp: str('PostJobScript'),
    PrTskScrp: str('PreTaskScript'),
    PoTskScrp: str('PostTaskScript'),
    // The engine holds the schedule: Schd, SchdDays, SchdDate, SchdStop, MonStart … SunStop.
    ...scheduleProps(job, int('ScheduledDays', 1), deadlineDate),
    PlugInfo: plugInfo,
    Env: env,
    EnvOnly: bool('UseJobEnvironmentOnly'),
    PlugDir: str('CustomPluginDirectory'),
    EventDir: '',
    OptIns: {},
    EventOI: list(get('EventOptIns')),
    AWSPortalAssets: [],
    AWSPortalAssetFileWhitelist: [],
  };
  for (let i = 0; i < 10; i++) props[`Ex${i}`] = extraInfo(i);
  props.ExDic = exDic;
  props.OvrTaskEINames = bool('OverrideTaskExtraInfoNames');
  for (let i = 0; i < 10; i++) props[`TaskEx${i}`] = str(`TaskExtraInfoName${i}`);
  if (view.steps) {
    // Each task's Ex0 names its step, under the task extra info name "Step".
    props.OvrTaskEINames = true;
    props.TaskEx0 = 'Step';
  }
  // Props edited through `save` that the engine does not hold win over the JobInfo
  // (Timeout is held by the engine; its saved code only tells Both from Error; schedule
  // and Protect Props kept here by saves from before the engine held them are stale).
  for (const [k, v] of Object.entries(saved)) {
    if (k in props && !ENGINE_HELD_SAVES.has(k) && !SCHEDULE_PROPS.includes(k)) props[k] = v;
  }

  const unknown = unknownJobInfoKeys(info);
  return {
    _id: toDeadlineId(job.id),
    Props: props,
    ComFra: job.chunk_size * job.tasks_completed,
    IsSub: true,
    Purged: false,
    Mach: str('MachineName'),
    Date: deadlineDate(job.created_at),
    DateStart: deadlineDate(job.started_at),
    DateComp: state === 'COMPLETED' ? deadlineDate(job.ended_at) : UNSET_DATE,
    Plug: plugin,
    OutDir: indexed(info, /^OutputDirectory(\d+)$/i).map(([, v]) => v),
    OutFile: indexed(info, /^OutputFilename(\d+)$/i).map(([, v]) => v),
    TileFile: [],
    Main: bool('MaintenanceJob'),
    MainStart: int('MaintenanceJobStartFrame', 0),
    MainEnd: int('MaintenanceJobEndFrame', 0),
    Tile: bool('TileJob'),
    TileFrame: int('TileJobFrame', 0),
    TileCount: int('TileJobTileCount', 1),
    TileX: int('TileJobTilesInX', 1),
    TileY: int('TileJobTilesInY', 1),
    Stat: JOB_STAT_OF[state] ?? 0,
    Aux: data?.aux ?? [],
    Bad: [],
    CompletedChunks: job.tasks_completed,
    QueuedChunks: job.tasks_queued,
    SuspendedChunks: job.tasks_suspended,
    RenderingChunks: job.tasks_running,
    FailedChunks: job.tasks_failed + job.tasks_canceled,
    PendingChunks: job.tasks_pending,
    SnglTskPrg: `${job.task_count === 1 && job.tasks_completed === 1 ? 100 : 0} %`,
    Errs: view.errors,
    DataSize: -1,
    ConcurrencyToken: null,
    // Deadline's catch-all for elements it does not know: JobInfo keys kept as sent.
    ExtraElements: Object.keys(unknown).length > 0 ? unknown : null,
  };
}

/**
 * Props.Timeout from the job's timeout action, which any face may have changed; a failing
 * job shows Both (0) rather than Error (1) when that is what its submitter or a save said.
 */
function timeoutCodeOf(job: JobRow, said: unknown): number {
  const action = taskTimeoutActionOf(job.task_timeout_action);
  if (action === 'COMPLETE') return ON_TIMEOUT_CODES.complete;
  if (action === 'NOTIFY') return ON_TIMEOUT_CODES.notify;
  let stated: string;
  try {
    stated = onTaskTimeoutOf(said);
  } catch {
    stated = 'error';
  }
  return stated === 'both' ? ON_TIMEOUT_CODES.both : ON_TIMEOUT_CODES.error;
}

function onCompleteOfSafe(value: unknown): keyof typeof ON_COMPLETE_CODES {
  try {
    return onCompleteOf(value);
  } catch {
    return 'nothing';
  }
}
