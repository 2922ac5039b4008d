import { Type, type Static } from '@sinclair/typebox';
import { INT32_MAX, INT32_MIN, MAX_ID } from '../../domain/job-bounds.js';
import {
  MAX_ACTIONS_PER_REPORT,
  MAX_REASON_LENGTH,
  MAX_SESSION_ACTIONS,
} from '../../engine/sessions/session-reports.js';
import type { SessionActionRow } from '../../store/schema.js';
import type { SessionListRow } from '../../store/sessions.js';
import { iso } from './representations.js';
import { Nullable, StringEnum, Time } from './schemas.js';

/*
 * OpenJD sessions as the native API shows them, named after Deadline Cloud's Session and
 * Session Action (GetSession, ListSessionActions) so that its users read them at sight.
 */

const KINDS = ['envEnter', 'taskRun', 'envExit'] as const;
const STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'INTERRUPTED', 'CANCELED'] as const;
const Id = Type.Integer({ minimum: 1, maximum: MAX_ID });

export const Session = Type.Object({
  id: Type.Integer(),
  jobId: Type.Integer({ description: 'The OpenJD job (the step jobs’ parent)' }),
  nodeId: Type.Integer(),
  nodeName: Nullable(Type.String()),
  steps: Type.Array(Type.Integer(), { description: 'The step jobs it ran actions of' }),
  lifecycleStatus: StringEnum(['STARTED', 'ENDED'] as const),
  startedAt: Time,
  endedAt: Time,
  endedReason: Nullable(Type.String({ description: 'Why the worker ended it' })),
  actionCount: Type.Integer(),
  logLines: Type.Integer(),
});

export const SessionAction = Type.Object({
  index: Type.Integer({ description: '0-based position in the session' }),
  sessionActionId: Type.String({ description: '`<session id>-<index>`' }),
  kind: StringEnum(KINDS),
  status: StringEnum(STATUSES),
  stepJobId: Nullable(Type.Integer()),
  environment: Nullable(Type.String()),
  taskId: Nullable(Type.Integer()),
  executionId: Nullable(Type.Integer()),
  startedAt: Time,
  endedAt: Time,
  workerUpdatedAt: Time,
  progressPercent: Nullable(Type.Number()),
  processExitCode: Nullable(Type.Integer()),
  progressMessage: Nullable(Type.String()),
});

export const SessionWithActions = Type.Intersect([
  Session,
  Type.Object({ actions: Type.Array(SessionAction) }),
]);

export function sessionJson(row: SessionListRow): Static<typeof Session> {
  return {
    id: row.id,
    jobId: row.job_id,
    nodeId: row.node_id,
    nodeName: row.node_name,
    steps: row.steps,
    lifecycleStatus: row.lifecycle_status,
    startedAt: iso(row.started_at),
    endedAt: iso(row.ended_at),
    endedReason: row.ended_reason,
    actionCount: row.action_count,
    logLines: row.log_lines,
  };
}

export function sessionActionJson(row: SessionActionRow): Static<typeof SessionAction> {
  return {
    index: row.action_index,
    sessionActionId: `${row.session_id}-${row.action_index}`,
    kind: row.kind,
    status: row.status,
    stepJobId: row.step_job_id,
    environment: row.environment,
    taskId: row.task_id,
    executionId: row.execution_id,
    startedAt: iso(row.started_at),
    endedAt: iso(row.ended_at),
    workerUpdatedAt: iso(row.worker_updated_at),
    progressPercent: row.progress_percent,
    processExitCode: row.process_exit_code,
    progressMessage: row.progress_message,
  };
}

// What a worker sends.

export const OpenSessionBody = Type.Object(
  {
    nodeId: Id,
    jobId: Id,
    clientToken: Type.String({
      minLength: 1,
      maxLength: 64,
      pattern: '^[A-Za-z0-9._:-]+$',
      description: 'The worker’s name for the session; opening again with it answers the same one',
    }),
  },
  { additionalProperties: false },
);

export const ActionReportBody = Type.Object(
  {
    index: Type.Integer({ minimum: 0, maximum: MAX_SESSION_ACTIONS - 1 }),
    kind: StringEnum(KINDS),
    status: StringEnum(STATUSES),
    environment: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
    stepJobId: Type.Optional(Id),
    executionId: Type.Optional(Id),
    progressPercent: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
    processExitCode: Type.Optional(Type.Integer({ minimum: INT32_MIN, maximum: INT32_MAX })),
    progressMessage: Type.Optional(Type.String({ maxLength: 4096 })),
    startedAt: Type.Optional(Type.String({ format: 'date-time' })),
    endedAt: Type.Optional(Type.String({ format: 'date-time' })),
  },
  { additionalProperties: false },
);

export const ActionsBody = Type.Object(
  {
    nodeId: Id,
    actions: Type.Array(ActionReportBody, { minItems: 1, maxItems: MAX_ACTIONS_PER_REPORT }),
  },
  { additionalProperties: false },
);

export const EndSessionBody = Type.Object(
  { nodeId: Id, reason: Type.String({ minLength: 1, maxLength: MAX_REASON_LENGTH }) },
  { additionalProperties: false },
);
