/*
 * The shapes the command line reads from the native API (see src/api/native/schemas.ts);
 * only the fields the commands use.
 */

export type JobState =
  'PENDING' | 'QUEUED' | 'RUNNING' | 'SUSPENDED' | 'COMPLETED' | 'FAILED' | 'CANCELED';

export const FINAL_STATES: readonly string[] = ['COMPLETED', 'FAILED', 'CANCELED'];

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
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
  resources: { cpus: number; mem: number; disk: number; gpus: number };
  taskTimeout: number;
  jobTimeout: number;
  maxTries: number;
  inputs: Record<string, unknown>;
  parameters: Record<string, unknown>;
  error: { name: string; message: string | null } | null;
  batchId: number | null;
  scheduledAt: string | null;
  createdAt: string | null;
  queuedAt: string | null;
  startedAt: string | null;
  endedAt: string | null;
  lastStatusChange: string | null;
  deletedAt: string | null;
  archivedAt: string | null;
}

export interface Task {
  id: number;
  jobId: number;
  index: number;
  frames: string;
  frameStart: number;
  frameEnd: number;
  state: JobState;
  tries: number;
  progress: number;
  nodeId: number | null;
  lastExecutionId: number | null;
  startedAt: string | null;
  endedAt: string | null;
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
  createdAt: string | null;
  startedAt: string | null;
  endedAt: string | null;
}

export interface Node {
  id: number;
  name: string;
  hostname: string;
  state: string;
  enabled: boolean;
  pools: string[];
  groups: string[];
  resources: { cpus: number; mem: number; disk: number; gpus: number };
  slots: number;
  currentExecutions: number[];
  lastHeartbeat: string | null;
}

export interface JobType {
  id: number;
  name: string;
  version: string;
  title: string;
  description: string;
  category: string;
  isSystem: boolean;
  revision: number;
  definition: unknown;
  createdAt: string | null;
  lastModified: string | null;
}

export interface LogLine {
  line: number;
  stream: 'stdout' | 'stderr' | 'system';
  time: string;
  text: string;
}

export interface LogPage {
  lines: LogLine[];
  next: number;
  live: boolean;
}

export interface WaitingReason {
  code: string;
  message: string;
}

/** A job's output as the worker's routes describe it; fields beyond id and name are optional. */
export interface Output {
  id: number;
  name: string;
  type?: string;
  size?: number;
  sha256?: string;
  createdAt?: string | null;
}
