import type { Generated } from 'kysely';

/*
 * The tables of the farm around the work (schema.ts holds the conventions): accounts and
 * grants, job types and their errors, batches and events, nodes and their telemetry, and
 * notification rules and their outbox.
 */

export interface UsersTable {
  id: Generated<number>;
  name: string;
  role: 'admin' | 'user' | 'node';
  password_hash: string | null;
  created_at: number;
}

/** One state-changing request: who, what, when, from which face and address. */
export interface AuditEventsTable {
  id: Generated<number>;
  at: number;
  actor: string;
  role: string;
  /** native, deadline, ufdl, scale, ui */
  face: string;
  /** What was done: the command or action, else METHOD and route. */
  action: string;
  method: string;
  path: string;
  job_id: number | null;
  address: string;
  status: number;
}

/**
 * What a user may change besides their own jobs: every job of a pool (`pool`), or every
 * job (`wrangler`, pool '').
 */
export interface UserGrantsTable {
  id: Generated<number>;
  user_id: number;
  kind: 'pool' | 'wrangler';
  pool: string;
  created_at: number;
  /** The admin who granted it. */
  created_by: string;
}

export interface ApiTokensTable {
  id: Generated<number>;
  user_id: number;
  name: string;
  token_hash: string;
  created_at: number;
  last_used_at: number | null;
  /** After this time the token is refused; null: it does not expire. */
  expires_at: number | null;
}

export interface JobTypesTable {
  id: Generated<number>;
  name: string;
  version: string;
  title: string;
  description: string;
  category: string;
  is_active: number;
  is_system: number;
  is_paused: number;
  latest_revision: number;
  created_at: number;
  last_modified: number;
}

export interface JobTypeRevisionsTable {
  id: Generated<number>;
  job_type_id: number;
  revision_num: number;
  definition_json: string;
  manifest_json: string | null;
  created_at: number;
  /** 1 when each finish of its jobs has its outputs judged: a manifest or a required output. */
  judges_outputs: number;
}

export interface ErrorsTable {
  id: Generated<number>;
  name: string;
  job_type_name: string | null;
  title: string;
  description: string;
  category: 'SYSTEM' | 'DATA' | 'ALGORITHM';
  is_builtin: number;
  should_be_retried: number;
  created_at: number;
  last_modified: number;
  /** The exit code a job type's own error stands for (Seed `errors[].code`; migration 0005). */
  exit_code: number | null;
}

export interface BatchesTable {
  id: Generated<number>;
  title: string;
  description: string;
  created_at: number;
}

export interface TriggerEventsTable {
  id: Generated<number>;
  type: string;
  description_json: string;
  occurred: number;
}

export interface NodesTable {
  id: Generated<number>;
  name: string;
  hostname: string;
  state: 'ONLINE' | 'OFFLINE';
  enabled: number;
  pools_json: string;
  groups_json: string;
  cpus: number;
  mem: number;
  disk: number;
  gpus: number;
  slots: number;
  props_json: string;
  last_heartbeat: number | null;
  created_at: number;
  last_modified: number;
  /** The account the node acts as; only it (or an admin) may speak for the node. */
  account_id?: number | null;
  /** The latest telemetry the node reported (0023), as validated JSON, and when. */
  telemetry_json?: string | null;
  telemetry_at?: number | null;
  /** Set while the node is quarantined for its failure rate (0036), with the reason. */
  quarantined_at?: number | null;
  quarantine_reason?: string | null;
  /** When an operator last cleared a quarantine: failures before it no longer count. */
  quarantine_cleared_at?: number | null;
  /** 1: an admin set the node's pools (groups), which its worker's registration keeps (0040). */
  pools_by_admin?: number;
  groups_by_admin?: number;
  /** The worker's own lists at its last registration; null before it registered (0040). */
  reported_pools_json?: string | null;
  reported_groups_json?: string | null;
  /** What the worker reported of itself (attributes, amounts) as JSON; null: nothing (0045). */
  host_caps?: string | null;
}

/** A point of a node's telemetry history: the mean of `samples` reports over a step. */
export interface NodeTelemetryTable {
  node_id: number;
  step_s: number;
  bucket_at: number;
  samples: number;
  cpu_percent: number | null;
  mem_used_bytes: number | null;
  mem_total_bytes: number | null;
  load1: number | null;
  disk_free_bytes: number | null;
  gpu_percent: number | null;
  gpu_mem_used_bytes: number | null;
}

/** A rule: which job events to announce, and where (migration 0020). */
export interface NotificationRulesTable {
  id: Generated<number>;
  /** The user whose jobs it watches; null: every job (an admin's global rule). */
  owner: string | null;
  name: string;
  /** JSON array of event names (src/domain/notifications.ts). */
  events: string;
  channel: 'webhook' | 'email';
  /** The webhook's URL or the email address. */
  target: string;
  /** The webhook's HMAC key; null for email. */
  secret: string | null;
  enabled: Generated<number>;
  created_at: number;
  created_by: string;
  /** task.failed: fires when a task's failures reach this many (0028); null otherwise. */
  task_failures?: number | null;
  /** job.queue-wait: fires when a job has been QUEUED this many seconds (0028). */
  queue_wait_s?: number | null;
  /** The one job the rule watches (Deadline's NotificationEmails); null: all of the owner's. */
  job_id?: number | null;
}

/** One notification to send, written with the state change it announces (migration 0020). */
export interface NotificationOutboxTable {
  id: Generated<number>;
  rule_id: number;
  event: string;
  /** The job the event is about; null for a node's event (0028). */
  job_id: number | null;
  task_id?: number | null;
  node_id?: number | null;
  /** Set by events a scan finds (a queue wait): one row per rule and key (0028). */
  dedupe_key?: string | null;
  payload: string;
  state: 'PENDING' | 'DELIVERED' | 'FAILED';
  attempts: Generated<number>;
  /** When it is due; a claim pushes it past the claim's lease. */
  next_attempt_at: number;
  last_error: string | null;
  created_at: number;
  delivered_at: number | null;
}
