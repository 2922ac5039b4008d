import { MAX_CHILD_JOBS, type ChildJob } from '../../domain/child-jobs.js';
import { DEFAULT_DEPENDENCY_FAILURE_POLICY } from '../../domain/dependency-failure.js';
import { invalid, notFound } from '../../domain/errors.js';
import { planFrames } from '../../domain/frame-chunks.js';
import { FrameListError, type FrameRun } from '../../domain/frame-list.js';
import {
  checkAdaptiveAndOffsets,
  checkJobNumbers,
  checkProject,
  checkMachineLimitRelease,
  DEFAULT_BAD_NODE_FAILURES,
} from '../../domain/job-bounds.js';
import { scheduleHolds, type JobSchedule } from '../../domain/job-schedule.js';
import {
  checkValues,
  type JobTypeDefinition,
  usesCapacity,
} from '../../domain/job-type-definition.js';
import { limitNames } from '../../domain/limits.js';
import { retryDelayJson } from '../../domain/retry-delay.js';
import { checkRetryRules } from '../../domain/retry-rules.js';
import {
  DEFAULT_TASK_TIMEOUT_ACTION,
  isTaskTimeoutAction,
  TASK_TIMEOUT_ACTIONS,
} from '../../domain/task-timeout-action.js';
import type { Tx } from '../../store/database.js';
import { findJobTypeByName, findRevision } from '../../store/job-types.js';
import { addDependencies, findJob, insertJob, setNodeList } from '../../store/jobs.js';
import { setJobLimits } from '../../store/limits.js';
import { inTransaction, type Emit, type EngineContext } from '../context.js';
import { checkLimitsExist } from '../limits/limits.js';
import { meetFailedDependencies } from './dependency-failure.js';
import { syncFrameHolds } from './frame-dependencies.js';
import { submissionDependencies } from './job-dependencies.js';
import { followChildren } from './job-families.js';
import { acceptSchedule, scheduleColumns } from './job-schedules.js';
import type { SubmitJobSpec } from './job-submission-spec.js';
import { insertFrameTasks, insertParameterTasks } from './task-batches.js';

export type { InlineChild, SubmitJobSpec } from './job-submission-spec.js';

/** Tasks in one job: a 100,000-task job is built in about 2 s (SQLite) without a stall. */
export const MAX_TASKS_PER_JOB = 100_000;
/** Frames one job's list may write, counted before expanding it. */
export const MAX_FRAMES_PER_JOB = 1_000_000;

/**
 * Checks a spec and turns it into the rows to insert; pure apart from reading the type.
 * `later` names inputs a sibling's output fills when it completes: not required now.
 */
async function prepare(
  ctx: EngineContext,
  tx: Tx,
  spec: SubmitJobSpec,
  later: ReadonlySet<string> = new Set(),
) {
  const type = await findJobTypeByName(tx, spec.type, spec.typeVersion);
  if (!type) {
    throw invalid(
      `job type "${spec.type}"${spec.typeVersion ? ` version ${spec.typeVersion}` : ''} does not exist`,
      { field: 'type' },
    );
  }
  if (type.is_active !== 1) {
    // Deprecated in Scale, deleted in UFDL: every face stops taking new jobs of it.
    throw invalid(
      `job type "${type.name}" version ${type.version} is inactive; reactivate it to submit jobs of it`,
      { field: 'type' },
    );
  }
  const revision = await findRevision(tx, type.id, type.latest_revision);
  if (!revision) throw notFound('job type revision', `${type.name}/${type.latest_revision}`);
  const definition = JSON.parse(revision.definition_json) as JobTypeDefinition;
  const inputs = spec.inputs ?? {};
  const parameters = spec.parameters ?? {};
  checkValues(
    'input',
    definition.inputs.map((f) => (later.has(f.name) ? { ...f, required: false } : f)),
    inputs,
  );
  checkValues('parameter', definition.parameters, parameters);

  checkJobNumbers(spec);
  checkProject(spec.project);
  checkMachineLimitRelease(spec.machineLimitRelease);
  const limits = limitNames(spec.limits ?? []);
  if (!spec.acceptUnknownLimits) await checkLimitsExist(tx, limits);
  const chunkSize = spec.chunkSize ?? 1;
  checkAdaptiveAndOffsets(spec);
  const frameText = spec.frames?.trim() ?? '';
  // Counted from the list before any task is made (no frames: one task without frames).
  let runs: FrameRun[] | undefined;
  let taskCount = 1;
  if (spec.tasks !== undefined) {
    if (frameText !== '')
      throw invalid('give either frames or tasks, not both', { field: 'frames' });
    if (spec.tasks.length === 0 || spec.tasks.length > MAX_TASKS_PER_JOB) {
      throw invalid(`a job has 1 to ${MAX_TASKS_PER_JOB} tasks, got ${spec.tasks.length}`, {
        field: 'tasks',
      });
    }
    taskCount = spec.tasks.length;
  } else if (frameText !== '') {
    try {
      const plan = planFrames(frameText, chunkSize, {
        maxFrames: MAX_FRAMES_PER_JOB,
        maxTasks: MAX_TASKS_PER_JOB,
      });
      runs = plan.runs;
      taskCount = plan.tasks;
    } catch (error) {
      if (error instanceof FrameListError) throw invalid(error.message, { field: 'frames' });
      throw error;
    }
  }
  if ((spec.allowList?.length ?? 0) > 0 && (spec.denyList?.length ?? 0) > 0) {
    throw invalid('give either allowList or denyList, not both', { field: 'allowList' });
  }
  const taskTimeoutAction = spec.taskTimeoutAction ?? DEFAULT_TASK_TIMEOUT_ACTION;
  if (!isTaskTimeoutAction(taskTimeoutAction)) {
    throw invalid(`taskTimeoutAction must be one of ${TASK_TIMEOUT_ACTIONS.join(', ')}`, {
      field: 'taskTimeoutAction',
    });
  }
  if (spec.schedule !== undefined && spec.scheduledAt !== undefined) {
    throw invalid('give either schedule or scheduledAt (a once schedule), not both', {
      field: 'scheduledAt',
    });
  }
  let schedule: JobSchedule | null = null;
  if (spec.schedule !== undefined) schedule = acceptSchedule(spec.schedule, ctx.clock());
  else if (spec.scheduledAt !== undefined) schedule = { kind: 'once', start: spec.scheduledAt };
  const resources = { ...definition.resources, ...spec.resources };
  return {
    retryDelay: retryDelayJson(spec.retryDelay ?? definition.retryDelay),
    retryRules:
      spec.retryRules === undefined ? null : JSON.stringify(checkRetryRules(spec.retryRules)),
    limits,
    schedule,
    taskTimeoutAction,
    type,
    revision,
    definition,
    inputs,
    parameters,
    chunkSize,
    frameText,
    runs,
    taskCount,
    resources,
  };
}

export async function submitJob(ctx: EngineContext, spec: SubmitJobSpec): Promise<number> {
  return inTransaction(ctx, (tx, emit) => insertJobIn(ctx, tx, emit, spec, null));
}

/**
 * Inserts one job, or for a composite type a parent without tasks and its children (each
 * a job of its own, in the parent's pool, running after the siblings its definition names),
 * all in the caller's transaction.
 */
async function insertJobIn(
  ctx: EngineContext,
  tx: Tx,
  emit: Emit,
  spec: SubmitJobSpec,
  parent: { id: number; child: ChildJob } | null,
): Promise<number> {
  {
    const p = await prepare(ctx, tx, spec, new Set(Object.keys(parent?.child.inputsFrom ?? {})));
    if (p.definition.children && spec.children) {
      throw invalid(`job type "${p.type.name}" makes its own children; give none`, {
        field: 'children',
      });
    }
    const children = p.definition.children ?? inlineChildren(spec);
    const now = ctx.clock();

    const { dependencies, byFrame, waitsOnDependencies } = await submissionDependencies(tx, spec);
    const waitsOnSchedule = p.schedule !== null && scheduleHolds(p.schedule, now);
    let state: 'PENDING' | 'QUEUED' | 'SUSPENDED' = spec.initialState ?? 'QUEUED';
    let pendReason: string | null = state === 'PENDING' ? 'MANUAL' : null;
    if (state === 'QUEUED' && waitsOnDependencies)
      [state, pendReason] = ['PENDING', 'DEPENDENCIES'];
    else if (state === 'QUEUED' && waitsOnSchedule) [state, pendReason] = ['PENDING', 'SCHEDULE'];

    const listMode = spec.allowList?.length ? 'ALLOW' : spec.denyList?.length ? 'DENY' : 'NONE';
    const count = children ? 0 : p.taskCount;
    const jobId = await insertJob(tx, {
      job_type_id: p.type.id,
      job_type_rev_id: p.revision.id,
      name: spec.name?.trim() || p.type.title || p.type.name,
      user_name: spec.user,
      comment: spec.comment ?? '',
      department: spec.department ?? '',
      project: spec.project ?? '',
      batch_id: spec.batchId ?? null,
      event_id: spec.eventId ?? null,
      state,
      pend_reason: pendReason,
      priority: spec.priority ?? p.definition.priority,
      pool: spec.pool ?? '',
      grp: spec.group ?? '',
      frames: p.frameText,
      chunk_size: p.chunkSize,
      task_count: count,
      tasks_pending: state === 'PENDING' ? count : 0,
      tasks_queued: state === 'QUEUED' ? count : 0,
      tasks_running: 0,
      tasks_suspended: state === 'SUSPENDED' ? count : 0,
      tasks_completed: 0,
      tasks_failed: 0,
      tasks_canceled: 0,
      machine_limit: spec.machineLimit ?? 0,
      machine_limit_release: spec.machineLimitRelease ?? -1,
      node_list_mode: listMode,
      req_cpus: p.resources.cpus,
      req_mem: p.resources.mem,
      req_disk: p.resources.disk,
      req_gpus: p.resources.gpus,
      uses_capacity: usesCapacity(p.resources) ? 1 : 0,
      req_host: spec.hostRequirement ? JSON.stringify(spec.hostRequirement) : null,
      task_timeout_s: spec.taskTimeout ?? p.definition.taskTimeout,
      task_timeout_action: p.taskTimeoutAction,
      job_timeout_s: spec.jobTimeout ?? 0,
      max_tries: spec.maxTries ?? p.definition.maxTries,
      bad_node_failures: spec.badNodeFailures ?? DEFAULT_BAD_NODE_FAILURES,
      retry_delay_json: p.retryDelay,
      retry_rules_json: p.retryRules,
      retry_any_error: spec.retryAnyError === false ? 0 : 1,
      on_dependency_failure: spec.onDependencyFailure ?? DEFAULT_DEPENDENCY_FAILURE_POLICY,
      frame_dependent: byFrame.size > 0 ? 1 : 0,
      frame_offset_start: spec.frameOffsetStart ?? 0,
      frame_offset_end: spec.frameOffsetEnd ?? 0,
      target_task_seconds: spec.targetTaskSeconds ?? 0,
      chunk_contiguous: spec.contiguousChunks ? 1 : 0,
      num_exes: 0,
      input_json: JSON.stringify(p.inputs),
      parameters_json: JSON.stringify(p.parameters),
      dialect_json: JSON.stringify(spec.dialect ?? {}),
      error_name: null,
      error_message: null,
      // A parent keeps its schedule to show; its children follow it (its state is theirs).
      ...scheduleColumns(p.schedule, now, children !== undefined),
      created_at: now,
      queued_at: state === 'QUEUED' ? now : null,
      started_at: null,
      ended_at: null,
      last_status_change: now,
      last_modified: now,
      deleted_at: null,
      archived_at: null,
      protected: spec.protected ? 1 : 0,
      parent_id: parent?.id ?? null,
      child_name: parent?.child.name ?? null,
    });
    await setNodeList(tx, jobId, spec.allowList?.length ? spec.allowList : (spec.denyList ?? []));
    if (p.limits.length > 0) await setJobLimits(tx, jobId, p.limits);
    await addDependencies(
      tx,
      jobId,
      dependencies.filter((id) => !byFrame.has(id)),
    );
    await addDependencies(tx, jobId, [...byFrame], true);
    emit({ type: 'job.created', jobId, state, queued: state === 'QUEUED' ? count : 0 });
    if (!children) {
      if (spec.tasks) await insertParameterTasks(tx, jobId, spec.tasks, state, now);
      else await insertFrameTasks(tx, jobId, p.runs, p.chunkSize, state, now);
      if (dependencies.length > 0) {
        const job = await findJob(tx, jobId);
        if (job) await syncFrameHolds(ctx, tx, emit, job);
        if (job) await meetFailedDependencies(ctx, tx, emit, job);
      }
      return jobId;
    }
    const inline = new Map((spec.children ?? []).map((c) => [c.name, c.spec]));
    const ids = new Map<string, number>();
    const parentName = spec.name?.trim() || p.type.title || p.type.name;
    for (const child of children) {
      const values = (from: Record<string, unknown>) => {
        const v = from[child.name];
        return v !== null && typeof v === 'object' && !Array.isArray(v)
          ? (v as Record<string, unknown>)
          : {};
      };
      const own = inline.get(child.name);
      const id = await insertJobIn(
        ctx,
        tx,
        emit,
        {
          ...own,
          type: child.type,
          ...(child.version !== undefined ? { typeVersion: child.version } : {}),
          name: own?.name ?? `${parentName} / ${child.name}`,
          user: spec.user,
          comment: spec.childSpecs?.[child.name]?.comment ?? spec.comment ?? '',
          department: spec.department ?? '',
          ...(spec.project !== undefined ? { project: spec.project } : {}),
          priority: spec.priority ?? p.definition.priority,
          ...(spec.pool !== undefined ? { pool: spec.pool } : {}),
          ...(spec.group !== undefined ? { group: spec.group } : {}),
          ...(spec.maxTries !== undefined ? { maxTries: spec.maxTries } : {}),
          ...(spec.onDependencyFailure !== undefined
            ? { onDependencyFailure: spec.onDependencyFailure }
            : {}),
          ...(spec.badNodeFailures !== undefined ? { badNodeFailures: spec.badNodeFailures } : {}),
          ...(spec.frameOffsetStart !== undefined
            ? { frameOffsetStart: spec.frameOffsetStart }
            : {}),
          ...(spec.frameOffsetEnd !== undefined ? { frameOffsetEnd: spec.frameOffsetEnd } : {}),
          ...(spec.retryDelay !== undefined ? { retryDelay: spec.retryDelay } : {}),
          ...(spec.retryRules !== undefined ? { retryRules: spec.retryRules } : {}),
          // The children run the parent's work, so they take its limits and requirements.
          ...(spec.hostRequirement && own?.hostRequirement === undefined
            ? { hostRequirement: spec.hostRequirement }
            : {}),
          ...(spec.limits !== undefined ? { limits: own?.limits ?? spec.limits } : {}),
          ...(spec.acceptUnknownLimits ? { acceptUnknownLimits: true } : {}),
          inputs: own?.inputs ?? values(p.inputs),
          parameters: own?.parameters ?? values(p.parameters),
          // The parent's own dependencies hold back the children that start the family.
          dependencies: child.after.length
            ? child.after.map((name) => ids.get(name)!)
            : dependencies,
          ...(child.after.length
            ? {
                frameDependencies: (
                  spec.children?.find((c) => c.name === child.name)?.afterByFrame ?? []
                ).map((name) => ids.get(name)!),
              }
            : spec.frameDependent
              ? { frameDependent: true }
              : {}),
          ...(spec.initialState !== undefined ? { initialState: spec.initialState } : {}),
          ...(p.schedule !== null ? { schedule: p.schedule } : {}),
          ...(spec.batchId !== undefined ? { batchId: spec.batchId } : {}),
          dialect: own?.dialect ?? spec.childSpecs?.[child.name]?.dialect ?? {},
        },
        { id: jobId, child },
      );
      ids.set(child.name, id);
    }
    // The parent takes the state its children start in (all queued, waiting or suspended).
    await followChildren(ctx, tx, emit, jobId);
    return jobId;
  }
}

/** A type without children of its own takes the spec's; a composite type refuses them. */
function inlineChildren(spec: SubmitJobSpec): ChildJob[] | undefined {
  if (!spec.children) return undefined;
  if (spec.children.length === 0 || spec.children.length > MAX_CHILD_JOBS) {
    throw invalid(`a job has 1 to ${MAX_CHILD_JOBS} children`, { field: 'children' });
  }
  const seen = new Set<string>();
  return spec.children.map((c) => {
    if (seen.has(c.name)) throw invalid(`child "${c.name}" is named twice`, { field: 'children' });
    const unknown = c.after.find((a) => !seen.has(a));
    if (unknown !== undefined) {
      throw invalid(`child "${c.name}" runs after "${unknown}", which is not an earlier child`, {
        field: 'children',
      });
    }
    seen.add(c.name);
    return { name: c.name, type: c.spec.type, after: c.after };
  });
}
