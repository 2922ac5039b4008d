/* The native API's shapes (src/api/native/schemas.ts), as the UI reads them. */

export const JOB_STATES = [
  'PENDING',
  'QUEUED',
  'RUNNING',
  'SUSPENDED',
  'COMPLETED',
  'FAILED',
  'CANCELED',
] as const;
export type JobState = (typeof JOB_STATES)[number];
export type TaskState = JobState;

export interface Page<T> {
  items: T[];
  total: number;
  /** False when more than 100,000 match and `total` is an estimate (job lists only). */
  totalExact?: boolean;
  limit: number;
  offset: number;
}

export interface Resources {
  cpus: number;
  mem: number;
  disk: number;
  gpus: number;
}

export interface TaskCounts {
  total: number;
  pending: number;
  queued: number;
  running: number;
  suspended: number;
  completed: number;
  failed: number;
  canceled: number;
}

/** What happens to a task past its job's taskTimeout (src/domain/task-timeout-action.ts). */
export const TASK_TIMEOUT_ACTIONS = ['FAIL', 'COMPLETE', 'NOTIFY'] as const;
export type TaskTimeoutAction = (typeof TASK_TIMEOUT_ACTIONS)[number];

export interface Job {
  id: number;
  name: string;
  type: { id: number; name: string; version: string; revisionId: number };
  user: string;
  comment: string;
  department: string;
  state: JobState;
  pendReason: string | null;
  deleted: boolean;
  /** Only its owner or an admin may delete, purge or archive it. */
  protected: boolean;
  priority: number;
  pool: string;
  group: string;
  frames: string;
  chunkSize: number;
  tasks: TaskCounts;
  progress: number;
  machineLimit: number;
  nodeList: { mode: 'NONE' | 'ALLOW' | 'DENY'; nodes?: string[] };
  dependencies?: number[];
  resources: Resources;
  taskTimeout: number;
  taskTimeoutAction: TaskTimeoutAction;
  jobTimeout: number;
  maxTries: number;
  inputs: Record<string, unknown>;
  parameters: Record<string, unknown>;
  error: { name: string; message: string | null } | null;
  batchId: number | null;
  scheduledAt: string | null;
  /** When the job may run; the server keeps it and starts and suspends the job by it. */
  schedule: JobSchedule | null;
  /** The schedule's next start or stop. */
  nextScheduleAt: string | null;
  /** SCHEDULE when the schedule's stop suspended the job (its next start resumes it). */
  suspendReason: string | null;
  createdAt: string | null;
  queuedAt: string | null;
  startedAt: string | null;
  endedAt: string | null;
  lastStatusChange: string | null;
  lastModified: string | null;
  deletedAt: string | null;
  archivedAt: string | null;
}

/** GET /stats/jobs: what a jobs table's Errors and ETA columns are made of. */
export interface JobStats {
  jobId: number;
  errors: number;
  sampled: number;
  meanTaskMs: number | null;
}

export interface Task {
  id: number;
  jobId: number;
  index: number;
  frames: string;
  frameStart: number;
  frameEnd: number;
  state: TaskState;
  tries: number;
  progress: number;
  nodeId: number | null;
  lastExecutionId: number | null;
  startedAt: string | null;
  endedAt: string | null;
  lastStatusChange: string | null;
  /** What its last execution's command said it is doing (OpenJD's openjd_status). */
  statusMessage?: string;
}

export interface Execution {
  id: number;
  jobId: number;
  taskId: number;
  nodeId: number;
  exeNum: number;
  state: string;
  progress: number;
  exitCode: number | null;
  error: { name: string; message: string | null } | null;
  timedOut: boolean;
  logLines: number;
  leaseExpiresAt: string | null;
  createdAt: string | null;
  startedAt: string | null;
  endedAt: string | null;
}

export interface LogLine {
  line: number;
  stream: 'stdout' | 'stderr' | 'worker';
  time: string;
  text: string;
}

export interface LogPage {
  lines: LogLine[];
  next: number;
  live: boolean;
}

export interface DroverNode {
  id: number;
  name: string;
  hostname: string;
  state: string;
  /** What it is doing: IDLE, BUSY, DISABLED (takes no new work) or OFFLINE (silent). */
  status: 'IDLE' | 'BUSY' | 'DISABLED' | 'OFFLINE';
  enabled: boolean;
  pools: string[];
  groups: string[];
  resources: Resources;
  slots: number;
  currentExecutions: number[];
  lastHeartbeat: string | null;
  createdAt: string | null;
  /** The machine as the node last reported it; figures it cannot read are left out. */
  telemetry?: NodeTelemetry | null;
}

export interface NodeTelemetry {
  cpuPercent?: number;
  memUsedBytes?: number;
  memTotalBytes?: number;
  load1?: number;
  gpus?: { index: number; utilizationPercent?: number }[];
  reportedAt: string;
}

/** A point of GET /nodes/{id}/telemetry: means over one step. */
export interface TelemetryPoint {
  at: string;
  samples: number;
  cpuPercent: number | null;
  memUsedBytes: number | null;
  memTotalBytes: number | null;
}

export interface Whoami {
  name: string;
  role: 'admin' | 'user' | 'node';
}

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';

export type JobSchedule =
  | { kind: 'once'; start: string; stop?: string }
  | { kind: 'daily'; startDate: string; startTime: string; stopTime?: string; everyDays: number }
  | { kind: 'custom'; days: Partial<Record<Weekday, { start?: string; stop?: string }>> };

export interface JobType {
  id: number;
  name: string;
  version: string;
  title: string;
  description: string;
  category: string;
  isSystem: boolean;
  /** False once deactivated: its jobs stay, new ones are refused. */
  active: boolean;
  revision: number;
  definition: unknown;
  createdAt: string | null;
  lastModified: string | null;
}

export interface JobTypeRevision {
  revision: number;
  definition: unknown;
  manifest: unknown;
  createdAt: string | null;
}

export interface Output {
  id: number;
  jobId: number;
  executionId: number | null;
  name: string;
  type: string;
  size: number;
  sha256: string;
  createdAt: string | null;
}

export interface WaitingReason {
  code: string;
  message: string;
}

export interface Counts {
  jobs: Record<string, number>;
  tasks: Record<string, number>;
  nodes: Record<string, number>;
}

export interface Throughput {
  minutes: Array<{ start: string; completed: number }>;
}

/** What the server sends on /api/v1/events (src/engine/events/events.ts). */
export type DroverEvent =
  | { type: 'job.created'; jobId: number; state: string }
  | { type: 'job.state'; jobId: number; from: string; to: string }
  | { type: 'job.updated'; jobId: number; fields: string[] }
  | { type: 'job.deleted'; jobId: number; purged: boolean }
  | { type: 'job.undeleted'; jobId: number }
  | {
      type: 'task.state';
      jobId: number;
      taskIds: number[];
      count: number;
      from: string;
      to: string;
    }
  | { type: 'task.progress'; jobId: number; taskId: number; progress: number }
  | {
      type: 'execution.state';
      jobId: number;
      taskId: number;
      executionId: number;
      nodeId: number;
      from: string | null;
      to: string;
    }
  | { type: 'log.appended'; jobId: number; executionId: number; lines: number }
  | { type: 'node.state'; nodeId: number; state: string; enabled: boolean }
  | { type: 'job-type.changed'; jobTypeId: number }
  | { type: 'audit.recorded'; jobId: number; auditId: number };

/** One entry of the audit trail (GET /api/v1/audit). */
export interface AuditEvent {
  id: number;
  at: string;
  actor: string;
  role: string;
  /** native, deadline, ufdl or scale */
  face: string;
  /** The command or action (suspend, delete, …), else METHOD and route. */
  action: string;
  method: string;
  path: string;
  jobId: number | null;
  address: string;
  status: number;
  summary: string;
}

export const JOB_ACTIONS = [
  'suspend',
  'resume',
  'resume-failed',
  'requeue',
  'cancel',
  'pend',
  'release',
  'undelete',
] as const;
export type JobAction = (typeof JOB_ACTIONS)[number];

export const TASK_ACTIONS = [
  'requeue',
  'suspend',
  'resume',
  'pend',
  'release',
  'complete',
  'fail',
  'reset',
] as const;
export type TaskAction = (typeof TASK_ACTIONS)[number];
