import type { ColumnType, Generated } from 'kysely';

/*
 * The tables of the work itself (schema.ts holds the conventions): jobs, their limits,
 * dependencies, tasks and executions, and what executions leave (logs, blobs, outputs,
 * files, archives).
 */

export interface JobsTable {
  id: Generated<number>;
  job_type_id: number;
  job_type_rev_id: number;
  name: string;
  user_name: string;
  comment: string;
  department: string;
  /**
   * The project (OpenCue's show) the job belongs to; '' for none. A weighted pool shared by
   * project gives shares to projects (migration 0042).
   */
  project: Generated<string>;
  batch_id: number | null;
  event_id: number | null;
  state: string;
  /** Why a PENDING job waits: DEPENDENCIES, SCHEDULE or MANUAL. */
  pend_reason: string | null;
  priority: number;
  pool: string;
  grp: string;
  frames: string;
  chunk_size: number;
  task_count: number;
  tasks_pending: number;
  tasks_queued: number;
  tasks_running: number;
  tasks_suspended: number;
  tasks_completed: number;
  tasks_failed: number;
  tasks_canceled: number;
  machine_limit: number;
  /**
   * Progress (percent) at which a node's task stops counting against machine_limit (Deadline's
   * release percentage); -1: never (migration 0018).
   */
  machine_limit_release: Generated<number>;
  node_list_mode: 'NONE' | 'ALLOW' | 'DENY';
  /** 1: the job names limits (job_limits), which the claim then checks (migration 0025). */
  uses_limits: Generated<number>;
  /**
   * 1: the job asks cpus, memory or gpus per task, which the claim sums over a node's live
   * executions (migration 0035); 0: slots alone.
   */
  uses_capacity: Generated<number>;
  /** Failures of the job on one node that block the node from it; 0: never (migration 0026). */
  bad_node_failures: Generated<number>;
  /** How many nodes are blocked from the job (job_node_failures.blocked). */
  blocked_nodes: Generated<number>;
  /** How long a failed task waits before its next try (domain/retry-delay.ts); null: none. */
  retry_delay_json: string | null;
  /** The job's own retry rules (domain/retry-rules.ts), replacing its type's; null: the type's. */
  retry_rules_json: string | null;
  /**
   * 1 once a task of the job was retried bound to a node (tasks.retry_node_id): the claim then
   * reads its tasks through the node test of migration 0039; 0: the plain task read.
   */
  pinned_retries: Generated<number>;
  req_cpus: number;
  req_mem: number;
  req_disk: number;
  req_gpus: number;
  /** The normalized host requirement (domain/host-capabilities.ts) as JSON; null: none (0045). */
  req_host: Generated<string | null>;
  task_timeout_s: number;
  /** On a task past task_timeout_s: FAIL, COMPLETE or NOTIFY (src/domain/task-timeout-action.ts). */
  task_timeout_action: string;
  job_timeout_s: number;
  max_tries: number;
  /** 1: retry any failure while tries remain; 0: only errors marked should_be_retried. */
  retry_any_error: number;
  /**
   * What the job does when a dependency FAILED or was CANCELED: CANCEL, WAIT or RUN
   * (src/domain/dependency-failure.ts; migration 0027).
   */
  on_dependency_failure: Generated<string>;
  /** 1: its dependencies hold each task only until the same frames are done (0027). */
  frame_dependent: Generated<number>;
  /**
   * How many frame-by-frame edges point at this job (0027): a completion looks for tasks to
   * release only when it is above 0. A purged dependent may leave it too high, which costs
   * a query that finds nothing.
   */
  frame_dependents: Generated<number>;
  /** Above 0: the unclaimed tasks are re-chunked toward this many seconds each (0034). */
  target_task_seconds: Generated<number>;
  /** 1: an adaptive chunk is a run of consecutive frames (OpenJD CONTIGUOUS; 0034). */
  chunk_contiguous: Generated<number>;
  /** A frame-dependent job's frame N waits for N+start..N+end of its dependencies (0034). */
  frame_offset_start: Generated<number>;
  frame_offset_end: Generated<number>;
  /**
   * The last execution number spent: a claim takes the next ones, and a task's queueing that
   * ends before any node took it (canceled while QUEUED) spends one too, since a queueing is
   * an execution for Scale. Execution numbers may therefore skip.
   */
  num_exes: number;
  input_json: string;
  parameters_json: string;
  /** What a dialect keeps of its submission that the engine does not interpret. */
  dialect_json: string;
  error_name: string | null;
  error_message: string | null;
  /** The first start of a once or daily schedule (shown as scheduledAt); null otherwise. */
  scheduled_at: number | null;
  /** The job's schedule (src/domain/job-schedule.ts), or null for none (migration 0007). */
  schedule_json: string | null;
  /** When the reaper next looks at the schedule: its next start or stop; null for none. */
  next_schedule_at: number | null;
  /** Why a SUSPENDED job is suspended: SCHEDULE (its schedule's stop), or null (by hand). */
  suspend_reason: string | null;
  created_at: number;
  queued_at: number | null;
  started_at: number | null;
  ended_at: number | null;
  last_status_change: number;
  /**
   * The last change of the job itself: its state, settings, schedule, deletion. The task
   * counters that dispatch and completions move do not touch it: it is indexed, and an
   * update of an indexed column is never a HOT update on PostgreSQL, so each claim and each
   * finish rewrote an entry in every one of the table's 30-odd indexes. A job's state
   * change (its first claim, its last finish) still sets it.
   */
  last_modified: number;
  deleted_at: number | null;
  archived_at: number | null;
  /**
   * 1: only the job's owner or an admin may delete, purge or archive it, whichever face
   * asks (Deadline's `Protected`; migration 0014). Grants do not reach past it.
   */
  protected: Generated<number>;
  /** The parent job this job is a child of (migration 0016); null or absent for none. */
  parent_id: ColumnType<number | null, number | null | undefined, number | null>;
  /** A child's name among its siblings, its entry in the parent's type (migration 0017). */
  child_name: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface JobNodeListTable {
  job_id: number;
  node_name: string;
}

/** A limit (migration 0025): a count shared by the running tasks of the jobs naming it. */
export interface LimitsTable {
  id: Generated<number>;
  name: string;
  max_count: number;
  /** TASK: each running task takes one; MACHINE: each node running any of them takes one. */
  per: 'TASK' | 'MACHINE';
  node_list_mode: 'NONE' | 'ALLOW' | 'DENY';
  description: string;
  created_at: number;
  last_modified: number;
}

export interface LimitNodesTable {
  limit_id: number;
  node_name: string;
}

/** The limits a job names, by name: one not made yet holds the job back until it is. */
export interface JobLimitsTable {
  job_id: number;
  limit_name: string;
}

/** A pool's scheduling mode (migration 0037); a pool without a row is `priority`. */
export interface PoolsTable {
  name: string;
  mode: 'priority' | 'balanced' | 'weighted';
  /** Whose shares a weighted pool weighs: its jobs' users, or their projects (0042). */
  share_by: 'user' | 'project';
  description: string;
  created_at: number;
  last_modified: number;
}

/**
 * A user's (or, in a pool shared by project, a project's) share of a weighted pool, and the
 * most tasks they may run in it (null: no cap).
 */
export interface PoolSharesTable {
  pool: string;
  /** The share's holder: a user, or a project when the pool's share_by is `project`. */
  user_name: string;
  share: number;
  burst: number | null;
}

/** A pool's OpenJD path mapping rules, in their order (migration 0043). */
export interface PoolPathMappingRulesTable {
  pool: string;
  position: number;
  source_path_format: 'POSIX' | 'WINDOWS';
  source_path: string;
  destination_path: string;
}

/** A node's failures of a job, and whether they block it from the job (migration 0026). */
export interface JobNodeFailuresTable {
  job_id: number;
  node_id: number;
  failures: number;
  blocked: number;
  last_failure_at: number;
}

export interface JobDependenciesTable {
  job_id: number;
  depends_on_id: number;
  /** 1: frame by frame (Deadline's IsFrameDependent; migration 0027). */
  by_frame: Generated<number>;
}

export interface TasksTable {
  id: Generated<number>;
  job_id: number;
  task_index: number;
  /** A frame list the frame parser reads back: "21-21", "1-10" or "1-1,6-6". */
  frames: string;
  frame_start: number;
  frame_end: number;
  /** The task's own parameter values, a JSON object of strings; null for frame tasks. */
  parameters_json: string | null;
  state: string;
  tries: number;
  progress: number;
  node_id: number | null;
  last_execution_id: number | null;
  started_at: number | null;
  ended_at: number | null;
  last_status_change: number;
  last_modified: number;
  /** A failed task waiting PENDING to retry: when it is queued again (migration 0026). */
  retry_at: number | null;
  /** The node its last failure bound its retry to or kept it from (migration 0039). */
  retry_node_id: number | null;
  /** SAME: only that node; OTHER: any node but that one; null: any. */
  retry_node_rule: 'SAME' | 'OTHER' | null;
}

export interface ExecutionsTable {
  id: Generated<number>;
  job_id: number;
  task_id: number;
  node_id: number;
  exe_num: number;
  state: string;
  lease_expires_at: number;
  progress: number;
  exit_code: number | null;
  error_name: string | null;
  error_message: string | null;
  timed_out: number;
  log_lines: number;
  created_at: number;
  started_at: number | null;
  ended_at: number | null;
  last_heartbeat: number;
  last_modified: number;
  /** What the node measured at the command's end (0022); null where it measured nothing. */
  cpu_seconds: number | null;
  wall_seconds: number | null;
  peak_memory_bytes: number | null;
  gpu_seconds: number | null;
  /** What the command last said it is doing (OpenJD `openjd_status`; 0031). */
  status_message: string | null;
  /** The node's GPU indexes given to it, '0,2'; '' for none (0035). */
  gpu_ids: string;
}

export interface LogBatchesTable {
  id: Generated<number>;
  execution_id: number;
  first_line: number;
  line_count: number;
  /** JSON array of [stream, time ms, text] triples. */
  lines_json: string;
  created_at: number;
}

export interface BlobsTable {
  id: Generated<number>;
  size: number;
  sha256: string;
  /** The bytes of rows written before 0012; empty when `file` or `large_object` holds them. */
  data: Uint8Array;
  file: string | null;
  large_object: number | null;
  created_at: number;
}

export interface OutputsTable {
  id: Generated<number>;
  job_id: number;
  execution_id: number | null;
  name: string;
  type: string;
  size: number;
  sha256: string;
  blob_id: number;
  created_at: number;
  deleted_at: number | null;
}

export interface FilesTable {
  id: Generated<number>;
  file_name: string;
  media_type: string;
  file_type: string;
  size: number;
  sha256: string | null;
  path: string;
  workspace: string;
  blob_id: number | null;
  props_json: string;
  created_at: number;
  last_modified: number;
  deleted_at: number | null;
  /** Source and data times, epoch ms (migration 0005). */
  source_started: number | null;
  source_ended: number | null;
  data_started: number | null;
  data_ended: number | null;
}

export interface JobInputFilesTable {
  job_id: number;
  file_id: number;
  input_name: string;
}

export interface JobArchivesTable {
  id: Generated<number>;
  job_id: number;
  path: string;
  created_at: number;
}

/**
 * How many live jobs (deleted_at null) are in each state, kept by triggers (migration
 * 0049). On PostgreSQL the triggers append to job_tally_deltas instead, and the reaper
 * folds those in; the exact count of a state is its row here plus its deltas.
 */
export interface JobTalliesTable {
  state: string;
  n: number | string;
}

export interface JobTallyDeltasTable {
  state: string;
  n: number | string;
}
