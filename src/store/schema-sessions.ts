import type { Generated } from 'kysely';

/*
 * OpenJD sessions (migration 0046, docs/openjd.md#session-records): one worker's run of an
 * OpenJD job's tasks in one session, its actions in order, and its own log.
 */

export type SessionLifecycleStatus = 'STARTED' | 'ENDED';
export type SessionActionKind = 'envEnter' | 'taskRun' | 'envExit';
/** Deadline Cloud's completed statuses, and RUNNING while the action runs. */
export type SessionActionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'INTERRUPTED' | 'CANCELED';

export interface SessionsTable {
  id: Generated<number>;
  /** The OpenJD job: the step jobs' parent, or a step job without one. */
  job_id: number;
  node_id: number;
  client_token: string;
  lifecycle_status: SessionLifecycleStatus;
  ended_reason: string | null;
  action_count: number;
  log_lines: number;
  started_at: number;
  ended_at: number | null;
  last_modified: number;
}

export interface SessionActionsTable {
  session_id: number;
  /** 0-based, in the order the worker ran them. */
  action_index: number;
  kind: SessionActionKind;
  status: SessionActionStatus;
  step_job_id: number | null;
  /** envEnter/envExit: the environment's label (`job environment NAME`, `step … NAME`). */
  environment: string | null;
  task_id: number | null;
  execution_id: number | null;
  progress_percent: number | null;
  process_exit_code: number | null;
  progress_message: string | null;
  started_at: number | null;
  ended_at: number | null;
  worker_updated_at: number;
}

export interface SessionLogBatchesTable {
  id: Generated<number>;
  session_id: number;
  first_line: number;
  line_count: number;
  /** JSON array of [stream, time ms, text] triples, as log_batches. */
  lines_json: string;
  created_at: number;
}
