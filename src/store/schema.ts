import type { Insertable, Selectable, Updateable } from 'kysely';
import type {
  UsersTable,
  AuditEventsTable,
  UserGrantsTable,
  ApiTokensTable,
  JobTypesTable,
  JobTypeRevisionsTable,
  ErrorsTable,
  BatchesTable,
  TriggerEventsTable,
  NodesTable,
  NodeTelemetryTable,
  NotificationRulesTable,
  NotificationOutboxTable,
} from './schema-farm.js';
import type {
  SessionsTable,
  SessionActionsTable,
  SessionLogBatchesTable,
} from './schema-sessions.js';
import type {
  JobsTable,
  JobNodeListTable,
  LimitsTable,
  LimitNodesTable,
  JobLimitsTable,
  PoolsTable,
  PoolSharesTable,
  PoolPathMappingRulesTable,
  JobNodeFailuresTable,
  JobDependenciesTable,
  TasksTable,
  ExecutionsTable,
  LogBatchesTable,
  BlobsTable,
  OutputsTable,
  FilesTable,
  JobInputFilesTable,
  JobArchivesTable,
  JobTalliesTable,
  JobTallyDeltasTable,
} from './schema-work.js';

export type * from './schema-farm.js';
export type * from './schema-work.js';
export type * from './schema-sessions.js';

/*
 * Terminology and conventions of the stored model:
 * - Times are integer milliseconds since the epoch in both databases (bigint in PostgreSQL),
 *   so comparisons, indexes and arithmetic behave the same everywhere.
 * - Booleans are integers 0/1, for the same reason.
 * - Columns ending in _json hold JSON text; the repositories parse and serialise them.
 * - Deletion and archiving are columns beside the state, never states.
 *
 * The tables are declared in schema-farm.ts and schema-work.ts; this is their index.
 */

export interface Database {
  users: UsersTable;
  api_tokens: ApiTokensTable;
  user_grants: UserGrantsTable;
  audit_events: AuditEventsTable;
  job_types: JobTypesTable;
  job_type_revisions: JobTypeRevisionsTable;
  errors: ErrorsTable;
  batches: BatchesTable;
  trigger_events: TriggerEventsTable;
  nodes: NodesTable;
  node_telemetry: NodeTelemetryTable;
  jobs: JobsTable;
  job_node_list: JobNodeListTable;
  limits: LimitsTable;
  limit_nodes: LimitNodesTable;
  job_limits: JobLimitsTable;
  pools: PoolsTable;
  pool_shares: PoolSharesTable;
  pool_path_mapping_rules: PoolPathMappingRulesTable;
  job_node_failures: JobNodeFailuresTable;
  job_dependencies: JobDependenciesTable;
  tasks: TasksTable;
  executions: ExecutionsTable;
  log_batches: LogBatchesTable;
  blobs: BlobsTable;
  outputs: OutputsTable;
  files: FilesTable;
  job_input_files: JobInputFilesTable;
  job_archives: JobArchivesTable;
  job_tallies: JobTalliesTable;
  job_tally_deltas: JobTallyDeltasTable;
  notification_rules: NotificationRulesTable;
  notification_outbox: NotificationOutboxTable;
  sessions: SessionsTable;
  session_actions: SessionActionsTable;
  session_log_batches: SessionLogBatchesTable;
}

export type JobRow = Selectable<JobsTable>;
export type NewJobRow = Insertable<JobsTable>;
export type JobUpdate = Updateable<JobsTable>;
export type TaskRow = Selectable<TasksTable>;
export type ExecutionRow = Selectable<ExecutionsTable>;
export type NodeRow = Selectable<NodesTable>;
export type SessionRow = Selectable<SessionsTable>;
export type SessionActionRow = Selectable<SessionActionsTable>;
export type LimitRow = Selectable<LimitsTable>;
export type JobTypeRow = Selectable<JobTypesTable>;
export type JobTypeRevisionRow = Selectable<JobTypeRevisionsTable>;
export type UserRow = Selectable<UsersTable>;
export type AuditEventRow = Selectable<AuditEventsTable>;
export type UserGrantRow = Selectable<UserGrantsTable>;
export type ErrorRow = Selectable<ErrorsTable>;
export type NotificationRuleRow = Selectable<NotificationRulesTable>;
export type NotificationOutboxRow = Selectable<NotificationOutboxTable>;
