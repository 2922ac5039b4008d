import { invalid, notFound } from '../../domain/errors.js';
import {
  checkJobNumbers,
  checkMachineLimitRelease,
  checkProject,
} from '../../domain/job-bounds.js';
import type { ScheduleInput } from '../../domain/job-schedule.js';
import { checkValues, type JobTypeDefinition } from '../../domain/job-type-definition.js';
import {
  isTaskTimeoutAction,
  TASK_TIMEOUT_ACTIONS,
  type TaskTimeoutAction,
} from '../../domain/task-timeout-action.js';
import type { Tx } from '../../store/database.js';
import { findRevisionById } from '../../store/job-types.js';
import {
  childrenOf,
  dependenciesOf,
  lockDependencyGraph,
  setNodeList,
  updateJob,
} from '../../store/jobs.js';
import type { JobRow, JobUpdate } from '../../store/schema.js';
import { inTransaction, type Emit, type EngineContext } from '../context.js';
import { lockedJob } from './job-actions.js';
import { replaceDependencies, replaceFailurePolicy } from './job-dependencies.js';
import { isParentJob } from './job-families.js';
import { replaceParentSchedule, replaceSchedule } from './job-schedules.js';
import { changeScheduling } from './scheduling-changes.js';

/* Changing the settings of a submitted job (the native PATCH, Deadline's job save). */

export interface JobChanges {
  name?: string;
  comment?: string;
  department?: string;
  /** The project a weighted pool shared by project weighs (docs/scheduling.md). */
  project?: string;
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
  project: 'project',
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

/**
 * The settings a parent job passes on to its children (docs/openjd.md): those that govern
 * how their tasks are dispatched and run. A parent has no tasks, so they mean nothing on it
 * alone. Its dependencies reach the children that start the family (passDependencies), its
 * failure policy every child (job-dependencies.ts); its schedule every child too, each step
 * then moving where the schedule says it should be now (the parent keeps the schedule to
 * show, job-schedules.ts); names, parameters and task timeout stay the parent's.
 */
const FOR_CHILDREN = [
  'project',
  'priority',
  'pool',
  'group',
  'machineLimit',
  'machineLimitRelease',
  'allowList',
  'denyList',
  'limits',
  'acceptUnknownLimits',
  'maxTries',
  'badNodeFailures',
  'retryDelay',
  'retryRules',
  'taskTimeoutAction',
  'jobTimeout',
  'submittedAt',
  'protected',
  'schedule',
] as const satisfies readonly (keyof JobChanges)[];

function forChildren(changes: JobChanges): JobChanges | undefined {
  const picked: Record<string, unknown> = {};
  for (const key of FOR_CHILDREN) {
    if (changes[key] !== undefined) picked[key] = changes[key];
  }
  return Object.keys(picked).length > 0 ? (picked as JobChanges) : undefined;
}

/**
 * Changes settings of a job (a parent: and those of its children it passes on, in the same
 * transaction); only a change of its dependencies or schedule may move its state.
 */
export async function updateJobSettings(
  ctx: EngineContext,
  jobId: number,
  changes: JobChanges,
): Promise<void> {
  await inTransaction(ctx, async (tx, emit) => {
    if (changes.dependencies !== undefined) await lockDependencyGraph(tx, ctx.dialect);
    checkJobNumbers(changes);
    checkProject(changes.project);
    checkMachineLimitRelease(changes.machineLimitRelease);
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
    await changeSettings(ctx, tx, emit, jobId, changes);
  });
}

async function changeSettings(
  ctx: EngineContext,
  tx: Tx,
  emit: Emit,
  jobId: number,
  changes: JobChanges,
): Promise<void> {
  const job = await lockedJob(ctx, tx, jobId);
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
    await passDependencies(ctx, tx, emit, job, changes.dependencies);
  }
  if (
    changes.onDependencyFailure !== undefined &&
    (await replaceFailurePolicy(ctx, tx, emit, jobId, changes.onDependencyFailure))
  ) {
    fields.push('onDependencyFailure');
  }
  if (
    changes.schedule !== undefined &&
    (isParentJob(job)
      ? await replaceParentSchedule(ctx, tx, job, changes.schedule)
      : // Read again: a change of dependencies may have moved the job just now.
        await replaceSchedule(ctx, tx, emit, await lockedJob(ctx, tx, jobId), changes.schedule))
  ) {
    fields.push('schedule');
  }
  emit({ type: 'job.updated', jobId, fields });
  const inherited = isParentJob(job) ? forChildren(changes) : undefined;
  for (const child of inherited ? await childrenOf(tx, jobId) : []) {
    await changeSettings(ctx, tx, emit, child.id, inherited!);
  }
}

/**
 * A parent's dependencies hold back the children that start the family, as at submission
 * (job-submission.ts): those that wait on no sibling take the parent's new list.
 */
async function passDependencies(
  ctx: EngineContext,
  tx: Tx,
  emit: Emit,
  parent: JobRow,
  ids: readonly number[],
): Promise<void> {
  if (!isParentJob(parent)) return;
  const children = await childrenOf(tx, parent.id);
  const siblings = new Set(children.map((c) => c.id));
  for (const child of children) {
    if ((await dependenciesOf(tx, child.id)).some((id) => siblings.has(id))) continue;
    await replaceDependencies(ctx, tx, emit, await lockedJob(ctx, tx, child.id), ids);
  }
}
