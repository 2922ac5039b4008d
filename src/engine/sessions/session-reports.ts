import { DroverError, invalid, notFound } from '../../domain/errors.js';
import type { Tx } from '../../store/database.js';
import { findExecution } from '../../store/executions.js';
import { findJob } from '../../store/jobs.js';
import type { LogStream } from '../../store/logs.js';
import type { SessionActionKind, SessionActionStatus, SessionRow } from '../../store/schema.js';
import {
  appendSessionLogBatch,
  findSessionByToken,
  insertSession,
  lockSession,
  nodeWorkedOnJob,
  updateSession,
  upsertActions,
} from '../../store/sessions.js';
import { inTransaction, type EngineContext } from '../context.js';
import { MAX_LINE_LENGTH, MAX_LINES_PER_BATCH } from '../executions/execution-logs.js';

/*
 * What a worker reports of its OpenJD sessions (docs/openjd.md#session-records): it opens a
 * session, reports each action as it starts and ends, appends to the session's log, and
 * ends it. Only the node that opened a session writes to it. Actions of a task name its
 * execution, from which the server takes the task and the step job, so a worker cannot
 * file another node's work under its session.
 */

/** A session runs at most this many actions; a worker past it stops reporting actions. */
export const MAX_SESSION_ACTIONS = 100_000;
export const MAX_ACTIONS_PER_REPORT = 100;
/** A session's log holds at most this many lines; later batches are refused (413). */
export const MAX_SESSION_LOG_LINES = 1_000_000;
export const MAX_REASON_LENGTH = 1024;

export interface ActionReport {
  index: number;
  kind: SessionActionKind;
  status: SessionActionStatus;
  /** envEnter/envExit: the environment's label; a step's environment names its step job. */
  environment?: string;
  stepJobId?: number;
  /** taskRun: the task's execution. */
  executionId?: number;
  progressPercent?: number;
  processExitCode?: number;
  progressMessage?: string;
  startedAt?: number;
  endedAt?: number;
}

/** Opens a session of `jobId` for the node; the same token again answers the same session. */
export async function openSession(
  ctx: EngineContext,
  nodeId: number,
  jobId: number,
  token: string,
): Promise<SessionRow> {
  return inTransaction(ctx, async (tx) => {
    const known = await findSessionByToken(tx, nodeId, token);
    if (known) {
      if (known.job_id !== jobId) {
        throw new DroverError(
          'CONFLICT',
          `session token ${token} names session ${known.id} of job ${known.job_id}`,
        );
      }
      return known;
    }
    const job = await findJob(tx, jobId);
    if (!job) throw notFound('job', jobId);
    if (!(await nodeWorkedOnJob(tx, nodeId, jobId))) {
      throw new DroverError(
        'FORBIDDEN',
        `node ${nodeId} holds no execution of job ${jobId} or its steps: open a session for a job whose task it runs`,
      );
    }
    const now = ctx.clock();
    return insertSession(tx, {
      job_id: jobId,
      node_id: nodeId,
      client_token: token,
      lifecycle_status: 'STARTED',
      ended_reason: null,
      action_count: 0,
      log_lines: 0,
      started_at: now,
      ended_at: null,
      last_modified: now,
    });
  });
}

async function ownSession(
  ctx: EngineContext,
  tx: Tx,
  sessionId: number,
  nodeId: number,
): Promise<SessionRow> {
  const session = await lockSession(tx, ctx.dialect, sessionId);
  if (!session) throw notFound('session', sessionId);
  if (session.node_id !== nodeId) {
    throw new DroverError('FORBIDDEN', `session ${sessionId} belongs to node ${session.node_id}`);
  }
  return session;
}

/** Adds or updates actions by index; indexes follow on from the session's last, no gaps. */
export async function reportActions(
  ctx: EngineContext,
  sessionId: number,
  nodeId: number,
  reports: readonly ActionReport[],
): Promise<{ actionCount: number }> {
  if (reports.length > MAX_ACTIONS_PER_REPORT) {
    throw invalid(`send at most ${MAX_ACTIONS_PER_REPORT} actions per report`);
  }
  return inTransaction(ctx, async (tx) => {
    const session = await ownSession(ctx, tx, sessionId, nodeId);
    if (session.lifecycle_status === 'ENDED') {
      throw new DroverError('CONFLICT', `session ${sessionId} has ended; its actions are final`);
    }
    let count = session.action_count;
    const now = ctx.clock();
    const rows = [];
    for (const report of [...reports].sort((a, b) => a.index - b.index)) {
      if (report.index > count) {
        throw invalid(
          `action ${report.index} skips ahead: the session has ${count} actions, report action ${count} next`,
        );
      }
      if (report.index >= MAX_SESSION_ACTIONS) {
        throw invalid(`a session holds at most ${MAX_SESSION_ACTIONS} actions`);
      }
      const where = await placeOf(tx, session, report);
      rows.push({
        session_id: sessionId,
        action_index: report.index,
        kind: report.kind,
        status: report.status,
        ...where,
        progress_percent: report.progressPercent ?? null,
        process_exit_code: report.processExitCode ?? null,
        progress_message: report.progressMessage ?? null,
        started_at: report.startedAt ?? null,
        ended_at: report.endedAt ?? null,
        worker_updated_at: now,
      });
      count = Math.max(count, report.index + 1);
    }
    await upsertActions(tx, rows);
    await updateSession(tx, sessionId, { action_count: count, last_modified: now });
    return { actionCount: count };
  });
}

/** The step job, task and execution an action concerns, checked against the session. */
async function placeOf(
  tx: Tx,
  session: SessionRow,
  report: ActionReport,
): Promise<{
  step_job_id: number | null;
  environment: string | null;
  task_id: number | null;
  execution_id: number | null;
}> {
  if (report.kind === 'taskRun') {
    if (report.executionId === undefined) {
      throw invalid(`action ${report.index} (taskRun) needs the executionId of its task`);
    }
    const execution = await findExecution(tx, report.executionId);
    if (!execution || execution.node_id !== session.node_id) {
      throw invalid(`execution ${report.executionId} is not one of node ${session.node_id}'s`);
    }
    await assertInJob(tx, session, execution.job_id);
    return {
      step_job_id: execution.job_id,
      environment: null,
      task_id: execution.task_id,
      execution_id: execution.id,
    };
  }
  if (report.environment === undefined) {
    throw invalid(`action ${report.index} (${report.kind}) needs its environment`);
  }
  if (report.stepJobId !== undefined) await assertInJob(tx, session, report.stepJobId);
  return {
    step_job_id: report.stepJobId ?? null,
    environment: report.environment,
    task_id: null,
    execution_id: null,
  };
}

async function assertInJob(tx: Tx, session: SessionRow, stepJobId: number): Promise<void> {
  if (stepJobId === session.job_id) return;
  const step = await findJob(tx, stepJobId);
  if (step?.parent_id !== session.job_id) {
    throw invalid(`job ${stepJobId} is not job ${session.job_id} nor one of its steps`);
  }
}

export interface SessionLine {
  stream: LogStream | 'system';
  text: string;
  time?: number;
}

/** Appends lines to a session's log; a batch sent again (by position) is stored once. */
export async function appendSessionLog(
  ctx: EngineContext,
  sessionId: number,
  nodeId: number,
  lines: readonly SessionLine[],
  position?: number,
): Promise<{ firstLine: number; count: number }> {
  if (lines.length > MAX_LINES_PER_BATCH) {
    throw invalid(`send at most ${MAX_LINES_PER_BATCH} lines per batch`);
  }
  return inTransaction(ctx, async (tx) => {
    const session = await ownSession(ctx, tx, sessionId, nodeId);
    const firstLine = session.log_lines;
    const known = position === undefined ? 0 : Math.max(0, firstLine - position);
    const fresh = lines.slice(known);
    if (fresh.length === 0) return { firstLine, count: 0 };
    if (firstLine + fresh.length > MAX_SESSION_LOG_LINES) {
      throw new DroverError(
        'PAYLOAD_TOO_LARGE',
        `session ${sessionId}'s log is full (${MAX_SESSION_LOG_LINES} lines)`,
      );
    }
    const now = ctx.clock();
    await appendSessionLogBatch(
      tx,
      sessionId,
      firstLine,
      fresh.map((l) => ({
        stream: l.stream === 'system' ? 'worker' : l.stream,
        time: l.time ?? now,
        text: l.text.length > MAX_LINE_LENGTH ? l.text.slice(0, MAX_LINE_LENGTH) : l.text,
      })),
      now,
    );
    await updateSession(tx, sessionId, { log_lines: firstLine + fresh.length, last_modified: now });
    return { firstLine, count: fresh.length };
  });
}

/** The session has ended (its environments exited); ending it again changes nothing. */
export async function endSession(
  ctx: EngineContext,
  sessionId: number,
  nodeId: number,
  reason: string,
): Promise<SessionRow> {
  return inTransaction(ctx, async (tx) => {
    const session = await ownSession(ctx, tx, sessionId, nodeId);
    if (session.lifecycle_status === 'ENDED') return session;
    const now = ctx.clock();
    const patch = {
      lifecycle_status: 'ENDED' as const,
      ended_reason: reason.slice(0, MAX_REASON_LENGTH),
      ended_at: now,
      last_modified: now,
    };
    await updateSession(tx, sessionId, patch);
    return { ...session, ...patch };
  });
}
