import { DroverError, invalid, notFound } from '../../domain/errors.js';
import { checkJobNumbers, checkMachineLimitRelease } from '../../domain/job-bounds.js';
import type { ScheduleInput } from '../../domain/job-schedule.js';
import { jobStateMachine, type JobEvent } from '../../domain/job-state.js';
import { checkValues, type JobTypeDefinition } from '../../domain/job-type-definition.js';
import { taskStateMachine, type TaskEvent, type TaskState } from '../../domain/task-state.js';
import {
  isTaskTimeoutAction,
  TASK_TIMEOUT_ACTIONS,
  type TaskTimeoutAction,
} from '../../domain/task-timeout-action.js';
import type { Tx } from '../../store/database.js';
import { liveExecutionsOfTasks } from '../../store/executions.js';
import { findRevisionById } from '../../store/job-types.js';
import {
  childrenOf,
  findJob,
  lockDependencyGraph,
  lockJob,
  setNodeList,
  unmetDependencies,
  updateJob,
} from '../../store/jobs.js';
import type { JobRow, JobUpdate, TaskRow } from '../../store/schema.js';
import { resetQueuedTries, tasksInStates } from '../../store/tasks.js';
import { inTransaction, type Emit, type EngineContext } from '../context.js';
import {
  changeJobState,
  moveTasks,
  outsideSchedule,
  releaseJob,
  stopExecutions,
} from '../state-changes.js';
import { meetFailedDependencies } from './dependency-failure.js';
import { syncFrameHolds } from './frame-dependencies.js';
import { replaceDependencies, replaceFailurePolicy } from './job-dependencies.js';
import { isParentJob } from './job-families.js';
import { replaceSchedule } from './job-schedules.js';
import { changeScheduling } from './scheduling-changes.js';

export const JOB_ACTIONS = [
  'suspend',
  'suspend-queued',
  'resume',
  'resume-failed',
  'requeue',
  'pend',
  'release',
  'cancel',
  'complete',
  'fail',
] as const;
export type JobAction = (typeof JOB_ACTIONS)[number];

interface ActionRule {
  jobEvent: JobEvent;
  taskEvent: TaskEvent;
  /** Which of the job's tasks move; defaults to every task the task event applies to. */
  tasksFrom?: TaskState[];
  /** Task columns reset by the move. */
  taskPatch?: { tries?: number };
  jobPatch?: (job: JobRow) => JobUpdate;
}

/** Each job action is a job event plus the task event applied to the job's tasks. */
const RULES: Record<JobAction, ActionRule> = {
  suspend: { jobEvent: 'suspend', taskEvent: 'suspend' },
  // Deadline's "suspend non-rendering tasks": what runs finishes, nothing new starts.
  'suspend-queued': { jobEvent: 'suspend', taskEvent: 'suspend', tasksFrom: ['PENDING', 'QUEUED'] },
  resume: { jobEvent: 'resume', taskEvent: 'resume' },
  'resume-failed': {
    jobEvent: 'resume-failed',
    taskEvent: 'resume-failed',
    taskPatch: { tries: 0 },
  },
  requeue: {
    jobEvent: 'requeue',
    taskEvent: 'requeue',
    taskPatch: { tries: 0 },
    jobPatch: () => ({ started_at: null }),
  },
  pend: { jobEvent: 'pend', taskEvent: 'pend', jobPatch: () => ({ pend_reason: 'MANUAL' }) },
  release: { jobEvent: 'release', taskEvent: 'release' },
  cancel: { jobEvent: 'cancel', taskEvent: 'cancel' },
  complete: { jobEvent: 'mark-completed', taskEvent: 'mark-completed' },
  fail: {
    jobEvent: 'mark-failed',
    taskEvent: 'mark-failed',
    jobPatch: () => ({ error_name: 'unknown', error_message: 'marked failed by hand' }),
  },
};

export async function lockedJob(ctx: EngineContext, tx: Tx, id: number): Promise<JobRow> {
  const job = await lockJob(tx, ctx.dialect, id);
  if (!job) throw notFound('job', id);
  return job;
}

export async function applyJobAction(
  ctx: EngineContext,
  jobId: number,
  action: JobAction,
  error?: { name: string; message: string },
): Promise<void> {
  await inTransaction(ctx, async (tx, emit) => {
    const job = await lockedJob(ctx, tx, jobId);
    await applyRule(ctx, tx, emit, job, action, error);
  });
}

async function applyRule(
  ctx: EngineContext,
  tx: Tx,
  emit: Emit,
  job: JobRow,
  action: JobAction,
  error?: { name: string; message: string },
): Promise<JobRow> {
  if (isParentJob(job)) return applyToChildren(ctx, tx, emit, job, action, error);
  const rule = RULES[action];
  let jobEvent = rule.jobEvent;
  let taskEvent = rule.taskEvent;
  let pendReason: string | null = null;
  if (action === 'resume' && (await unmetDependencies(tx, job.id)).length > 0) {
    pendReason = 'DEPENDENCIES';
  } else if (action === 'resume' && outsideSchedule(job, ctx.clock())) {
    pendReason = 'SCHEDULE';
  }
  if (pendReason !== null) {
    [jobEvent, taskEvent] = ['resume-to-pending', 'pend'];
  }
  if (action === 'release' && job.state === 'PENDING') return releaseJob(ctx, tx, emit, job);
  // Ask the job's table before touching any task, so an illegal action changes nothing.
  jobStateMachine.apply(job.state as never, jobEvent, job.id);
  const from =
    taskEvent === 'pend' && action === 'resume'
      ? (['SUSPENDED'] as TaskState[])
      : (rule.tasksFrom ?? taskStateMachine.sources(taskEvent));
  const tasks = await tasksInStates(tx, job.id, from);
  await stopLiveExecutions(ctx, tx, emit, tasks);
  await moveTasks(ctx, tx, emit, job.id, tasks, taskEvent, rule.taskPatch ?? {});
  // Tasks already QUEUED do not move, but a requeue forgets their tries as well.
  if (action === 'requeue') await resetQueuedTries(tx, job.id, ctx.clock());
  const patch = rule.jobPatch?.(job) ?? {};
  if (pendReason !== null) patch.pend_reason = pendReason;
  if (error) Object.assign(patch, { error_name: error.name, error_message: error.message });
  const changed = await changeJobState(ctx, tx, emit, job, jobEvent, patch);
  if (pendReason !== 'DEPENDENCIES' && changed.frame_dependent !== 1) return changed;
  await syncFrameHolds(ctx, tx, emit, changed);
  await meetFailedDependencies(ctx, tx, emit, changed);
  return (await findJob(tx, job.id)) ?? changed;
}

/**
 * An action on a parent job is the action on each child it applies to; the parent then
 * follows its children. One that applies to no child is illegal for the parent too.
 */
async function applyToChildren(
  ctx: EngineContext,
  tx: Tx,
  emit: Emit,
  parent: JobRow,
  action: JobAction,
  error?: { name: string; message: string },
): Promise<JobRow> {
  let applied = 0;
  for (const child of await childrenOf(tx, parent.id)) {
    const locked = await lockedJob(ctx, tx, child.id);
    try {
      await applyRule(ctx, tx, emit, locked, action, error);
      applied += 1;
    } catch (e) {
      // applyRule asks the state table before it touches anything: a child in a state the
      // action does not apply to (a finished one, for a cancel) is left as it is.
      if (!(e instanceof DroverError && e.code === 'ILLEGAL_TRANSITION')) throw e;
    }
  }
  if (applied === 0)
    jobStateMachine.apply(parent.state as never, RULES[action].jobEvent, parent.id);
  return (await findJob(tx, parent.id)) ?? parent;
}

async function stopLiveExecutions(
  ctx: EngineContext,
  tx: Tx,
  emit: Emit,
  tasks: readonly TaskRow[],
): Promise<void> {
  const running = tasks.filter((t) => t.state === 'RUNNING').map((t) => t.id);
  if (running.length > 0)
    await stopExecutions(ctx, tx, emit, await liveExecutionsOfTasks(tx, running));
}

export interface JobChanges {
  name?: string;
  comment?: string;
  department?: string;
  priority?: number;
  pool?: string;
  group?: string;
  machineLimit?: number;
  /** Progress (percent) at which a node's task stops counting against the limit; -1: never. */
  machineLimitRelease?: number;
  allowList?: string[];
  denyList?: string[];
  /** Replaces the limits the job names (docs/scheduling.md). */
  limits?: string[];
  /** Keep names no limit has yet (Deadline's LimitGroups); otherwise they are refused. */
  acceptUnknownLimits?: boolean;
  maxTries?: number;
  /** Failures on one node that block it from the job; 0: never. Blocks made stay. */
  badNodeFailures?: number;
  /** Retry delay of failures from now on (domain/retry-delay.ts); NONE for none. */
  retryDelay?: unknown;
  /** The job's own retry rules from the next failure on (domain/retry-rules.ts); null: its type's. */
  retryRules?: unknown;
  taskTimeout?: number;
  /** FAIL, COMPLETE or NOTIFY; running executions follow the new action from now on. */
  taskTimeoutAction?: TaskTimeoutAction;
  jobTimeout?: number;
  /** A new submission time (ms): the job takes its place in the queue as if just submitted. */
  submittedAt?: number;
  /**
   * Replaces the jobs this job waits on; the job may move between QUEUED and PENDING
   * (job-dependencies.ts says when). The same list again changes nothing.
   */
  dependencies?: number[];
  /** What the job does when a dependency fails or is canceled (job-dependencies.ts). */
  onDependencyFailure?: string;
  /**
   * Replaces the job's schedule (null removes it); the job moves to where the new schedule
   * says it should be now (job-schedules.ts says how). The same schedule again changes nothing.
   */
  schedule?: ScheduleInput | null;
  /**
   * Replaces the job type's parameters, checked against the job's pinned type revision.
   * Tasks acquired from now on run with them; work already handed out keeps what it got.
   */
  parameters?: Record<string, unknown>;
  /** Whether only the owner or an admin may delete, purge or archive the job (permissions.ts). */
  protected?: boolean;
  /** Rewrites the dialect JSON under the job's lock (a dialect's own settings). */
  dialect?: (current: Record<string, unknown>) => Record<string, unknown>;
}

const COLUMN_OF: Record<string, keyof JobUpdate> = {
  name: 'name',
  comment: 'comment',
  department: 'department',
  priority: 'priority',
  pool: 'pool',
  group: 'grp',
  machineLimit: 'machine_limit',
  machineLimitRelease: 'machine_limit_release',
  maxTries: 'max_tries',
  badNodeFailures: 'bad_node_failures',
  taskTimeout: 'task_timeout_s',
  taskTimeoutAction: 'task_timeout_action',
  jobTimeout: 'job_timeout_s',
  submittedAt: 'created_at',
};

/** Changes settings of a job; only a change of its dependencies or schedule may move its state. */
export async function updateJobSettings(
  ctx: EngineContext,
  jobId: number,
  changes: JobChanges,
): Promise<void> {
  await inTransaction(ctx, async (tx, emit) => {
    if (changes.dependencies !== undefined) await lockDependencyGraph(tx, ctx.dialect);
    checkJobNumbers(changes);
    checkMachineLimitRelease(changes.machineLimitRelease);
    const job = await lockedJob(ctx, tx, jobId);
    if (changes.allowList?.length && changes.denyList?.length) {
      throw invalid('give either allowList or denyList, not both', { field: 'allowList' });
    }
    if (
      changes.taskTimeoutAction !== undefined &&
      !isTaskTimeoutAction(changes.taskTimeoutAction)
    ) {
      throw invalid(`taskTimeoutAction must be one of ${TASK_TIMEOUT_ACTIONS.join(', ')}`, {
        field: 'taskTimeoutAction',
      });
    }
    const patch: JobUpdate = { last_modified: ctx.clock() };
    const fields: string[] = [];
    for (const [key, column] of Object.entries(COLUMN_OF)) {
      const value = changes[key as keyof JobChanges];
      if (value === undefined) continue;
      (patch as Record<string, unknown>)[column] = value;
      fields.push(key);
    }
    if (changes.protected !== undefined) {
      patch.protected = changes.protected ? 1 : 0;
      fields.push('protected');
    }
    if (changes.allowList !== undefined || changes.denyList !== undefined) {
      const names = changes.allowList?.length ? changes.allowList : (changes.denyList ?? []);
      patch.node_list_mode = changes.allowList?.length
        ? 'ALLOW'
        : changes.denyList?.length
          ? 'DENY'
          : 'NONE';
      await setNodeList(tx, jobId, names);
      fields.push('nodeList');
    }
    fields.push(...(await changeScheduling(tx, jobId, changes, patch)));
    if (changes.parameters !== undefined) {
      const revision = await findRevisionById(tx, job.job_type_rev_id);
      if (!revision) throw notFound('job type revision', job.job_type_rev_id);
      const definition = JSON.parse(revision.definition_json) as JobTypeDefinition;
      checkValues('parameter', definition.parameters, changes.parameters);
      patch.parameters_json = JSON.stringify(changes.parameters);
      fields.push('parameters');
    }
    if (changes.dialect) {
      patch.dialect_json = JSON.stringify(
        changes.dialect(JSON.parse(job.dialect_json) as Record<string, unknown>),
      );
      fields.push('dialect');
    }
    await updateJob(tx, jobId, patch);
    if (
      changes.dependencies !== undefined &&
      (await replaceDependencies(ctx, tx, emit, job, changes.dependencies))
    ) {
      fields.push('dependencies');
    }
    if (
      changes.onDependencyFailure !== undefined &&
      (await replaceFailurePolicy(ctx, tx, emit, jobId, changes.onDependencyFailure))
    ) {
      fields.push('onDependencyFailure');
    }
    if (
      changes.schedule !== undefined &&
      // Read again: a change of dependencies may have moved the job just now.
      (await replaceSchedule(ctx, tx, emit, await lockedJob(ctx, tx, jobId), changes.schedule))
    ) {
      fields.push('schedule');
    }
    emit({ type: 'job.updated', jobId, fields });
  });
}

export { deleteJob, purgeJob, undeleteJob } from './job-deletion.js';
