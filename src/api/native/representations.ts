import type { Static } from '@sinclair/typebox';
import { dependencyFailurePolicyOf } from '../../domain/dependency-failure.js';
import { parseGpuIds } from '../../domain/gpu-ids.js';
import { parseHostCapabilities, parseHostRequirement } from '../../domain/host-capabilities.js';
import { parseStoredSchedule } from '../../domain/job-schedule.js';
import { nodeStatus } from '../../domain/node-status.js';
import type { NodeTelemetry } from '../../domain/node-telemetry.js';
import { storedRetryDelay } from '../../domain/retry-delay.js';
import type { RetryRule } from '../../domain/retry-rules.js';
import { taskTimeoutActionOf } from '../../domain/task-timeout-action.js';
import type { FamilyProgress } from '../../store/job-families.js';
import type { ExecutionRow, JobRow, JobTypeRow, NodeRow, TaskRow } from '../../store/schema.js';
import type { Execution, Task } from './execution-schemas.js';
import type { Job, Schedule } from './job-schemas.js';
import type { JobType } from './job-type-schemas.js';
import type { Node } from './node-schemas.js';

/*
 * The instants of one answer repeat: a claim's executions and tasks are stamped with the
 * claim's `now` (created, started, status change) and share one lease end. A small cache,
 * indexed by the instant's low bits, keeps the text of each recent one: toISOString made
 * iso the heaviest function of representations.ts in bench/peer.ts's profile (batched
 * protocol, PostgreSQL: 135 ms of 3.8 s, ~6 µs per task, seven instants per order).
 */
const ISO_SLOTS = 64;
const isoMs = new Float64Array(ISO_SLOTS).fill(Number.NaN);
const isoText: string[] = new Array<string>(ISO_SLOTS).fill('');

export const iso = (ms: number | null): string | null => {
  if (ms === null) return null;
  const slot = ms & (ISO_SLOTS - 1);
  if (isoMs[slot] === ms) return isoText[slot]!;
  const text = new Date(ms).toISOString();
  isoMs[slot] = ms;
  isoText[slot] = text;
  return text;
};

export function jobJson(
  row: JobRow,
  type: Pick<JobTypeRow, 'id' | 'name' | 'version'>,
  extra: {
    nodes?: string[];
    dependencies?: number[];
    limits?: string[];
    /** A parent job's steps and their tasks (familyProgress), which replace its own none. */
    family?: FamilyProgress | undefined;
  } = {},
): Static<typeof Job> {
  const { family } = extra;
  const tasks = family?.tasks ?? {
    total: row.task_count,
    pending: row.tasks_pending,
    queued: row.tasks_queued,
    running: row.tasks_running,
    suspended: row.tasks_suspended,
    completed: row.tasks_completed,
    failed: row.tasks_failed,
    canceled: row.tasks_canceled,
  };
  return {
    id: row.id,
    name: row.name,
    type: { id: type.id, name: type.name, version: type.version, revisionId: row.job_type_rev_id },
    user: row.user_name,
    comment: row.comment,
    department: row.department,
    project: row.project,
    state: row.state as Static<typeof Job>['state'],
    pendReason: row.pend_reason,
    deleted: row.deleted_at !== null,
    protected: row.protected === 1,
    priority: row.priority,
    pool: row.pool,
    group: row.grp,
    frames: row.frames,
    chunkSize: row.chunk_size,
    tasks,
    ...(family ? { steps: family.steps } : {}),
    progress: tasks.total === 0 ? 0 : Math.round((1000 * tasks.completed) / tasks.total) / 10,
    machineLimit: row.machine_limit,
    machineLimitRelease: row.machine_limit_release,
    badNodeFailures: row.bad_node_failures,
    blockedNodes: row.blocked_nodes,
    retryDelay: storedRetryDelay(row.retry_delay_json),
    retryRules:
      row.retry_rules_json === null ? null : (JSON.parse(row.retry_rules_json) as RetryRule[]),
    nodeList: { mode: row.node_list_mode, ...(extra.nodes ? { nodes: extra.nodes } : {}) },
    ...(extra.dependencies ? { dependencies: extra.dependencies } : {}),
    ...(extra.limits ? { limits: extra.limits } : {}),
    ...(row.parent_id !== null ? { parentId: row.parent_id, childName: row.child_name } : {}),
    resources: { cpus: row.req_cpus, mem: row.req_mem, disk: row.req_disk, gpus: row.req_gpus },
    hostRequirements: parseHostRequirement(row.req_host),
    taskTimeout: row.task_timeout_s,
    taskTimeoutAction: taskTimeoutActionOf(row.task_timeout_action),
    jobTimeout: row.job_timeout_s,
    maxTries: row.max_tries,
    onDependencyFailure: dependencyFailurePolicyOf(row.on_dependency_failure),
    frameDependent: row.frame_dependent === 1,
    frameOffsetStart: row.frame_offset_start,
    frameOffsetEnd: row.frame_offset_end,
    targetTaskSeconds: row.target_task_seconds,
    inputs: JSON.parse(row.input_json) as Record<string, unknown>,
    parameters: JSON.parse(row.parameters_json) as Record<string, unknown>,
    error: row.error_name === null ? null : { name: row.error_name, message: row.error_message },
    batchId: row.batch_id,
    scheduledAt: iso(row.scheduled_at),
    schedule: scheduleJson(row.schedule_json),
    nextScheduleAt: iso(row.next_schedule_at),
    suspendReason: row.suspend_reason,
    createdAt: iso(row.created_at),
    queuedAt: iso(row.queued_at),
    startedAt: iso(row.started_at),
    endedAt: iso(row.ended_at),
    lastStatusChange: iso(row.last_status_change),
    lastModified: iso(row.last_modified),
    deletedAt: iso(row.deleted_at),
    archivedAt: iso(row.archived_at),
  };
}

/** A stored schedule as the API shows it: a once schedule's instants as ISO 8601. */
export function scheduleJson(json: string | null): Static<typeof Schedule> | null {
  const schedule = parseStoredSchedule(json);
  if (schedule?.kind !== 'once') return schedule;
  return {
    kind: 'once',
    start: iso(schedule.start)!,
    ...(schedule.stop !== undefined ? { stop: iso(schedule.stop)! } : {}),
  };
}

/** `statusMessage`: its last execution's, where the caller looked it up (statusMessagesOf). */
export function taskJson(row: TaskRow, statusMessage?: string | null): Static<typeof Task> {
  return {
    id: row.id,
    jobId: row.job_id,
    index: row.task_index,
    frames: row.frames,
    frameStart: row.frame_start,
    frameEnd: row.frame_end,
    ...(row.parameters_json !== null
      ? { parameters: JSON.parse(row.parameters_json) as Record<string, string> }
      : {}),
    state: row.state as Static<typeof Task>['state'],
    tries: row.tries,
    progress: row.progress,
    nodeId: row.node_id,
    lastExecutionId: row.last_execution_id,
    ...(statusMessage != null ? { statusMessage } : {}),
    startedAt: iso(row.started_at),
    endedAt: iso(row.ended_at),
    lastStatusChange: iso(row.last_status_change),
  };
}

export function executionJson(row: ExecutionRow): Static<typeof Execution> {
  return {
    id: row.id,
    jobId: row.job_id,
    taskId: row.task_id,
    nodeId: row.node_id,
    exeNum: row.exe_num,
    state: row.state,
    progress: row.progress,
    statusMessage: row.status_message ?? null,
    exitCode: row.exit_code,
    error: row.error_name === null ? null : { name: row.error_name, message: row.error_message },
    timedOut: row.timed_out === 1,
    logLines: row.log_lines,
    leaseExpiresAt: iso(row.lease_expires_at),
    createdAt: iso(row.created_at),
    startedAt: iso(row.started_at),
    endedAt: iso(row.ended_at),
    usage: {
      cpuSeconds: row.cpu_seconds,
      wallSeconds: row.wall_seconds,
      peakMemoryBytes: row.peak_memory_bytes,
      gpuSeconds: row.gpu_seconds,
    },
    ...(row.gpu_ids ? { gpus: parseGpuIds(row.gpu_ids) } : {}),
  };
}

export function nodeJson(row: NodeRow, currentExecutions: number[]): Static<typeof Node> {
  return {
    id: row.id,
    name: row.name,
    hostname: row.hostname,
    state: row.state,
    status: nodeStatus(row, currentExecutions.length),
    enabled: row.enabled === 1,
    quarantine:
      row.quarantined_at !== null && row.quarantined_at !== undefined
        ? { since: new Date(row.quarantined_at).toISOString(), reason: row.quarantine_reason ?? '' }
        : null,
    pools: JSON.parse(row.pools_json) as string[],
    groups: JSON.parse(row.groups_json) as string[],
    membershipsSetBy: {
      pools: row.pools_by_admin ? ('admin' as const) : ('worker' as const),
      groups: row.groups_by_admin ? ('admin' as const) : ('worker' as const),
    },
    resources: { cpus: row.cpus, mem: row.mem, disk: row.disk, gpus: row.gpus },
    capabilities: parseHostCapabilities(row.host_caps) ?? { attributes: {}, amounts: {} },
    slots: row.slots,
    currentExecutions,
    lastHeartbeat: iso(row.last_heartbeat),
    createdAt: iso(row.created_at),
    telemetry:
      row.telemetry_json && row.telemetry_at
        ? {
            ...(JSON.parse(row.telemetry_json) as NodeTelemetry),
            reportedAt: new Date(row.telemetry_at).toISOString(),
          }
        : null,
  };
}

export function jobTypeJson(row: JobTypeRow, definition: unknown): Static<typeof JobType> {
  return {
    id: row.id,
    name: row.name,
    version: row.version,
    title: row.title,
    description: row.description,
    category: row.category,
    isSystem: row.is_system === 1,
    active: row.is_active === 1,
    revision: row.latest_revision,
    definition,
    createdAt: iso(row.created_at),
    lastModified: iso(row.last_modified),
  };
}
