import { notFound } from '../../domain/errors.js';
import { findJob } from '../../store/jobs.js';
import type { LogLine } from '../../store/logs.js';
import { findNode } from '../../store/nodes.js';
import type { SessionActionRow } from '../../store/schema.js';
import {
  findSession,
  listActions,
  listSessionsOfJob,
  readSessionLogLines,
  stepsOfSessions,
  type SessionListRow,
} from '../../store/sessions.js';
import type { EngineContext } from '../context.js';

/* Reading sessions back: a job's list, one session with its actions, a session's log. */

export async function sessionsOfJob(
  ctx: EngineContext,
  jobId: number,
  page: { limit: number; offset: number },
): Promise<{ rows: SessionListRow[]; total: number }> {
  if (!(await findJob(ctx.db, jobId))) throw notFound('job', jobId);
  return listSessionsOfJob(ctx.db, jobId, page);
}

export async function sessionWithActions(
  ctx: EngineContext,
  sessionId: number,
  actions: { from: number; limit: number },
): Promise<{ session: SessionListRow; actions: SessionActionRow[] }> {
  const session = await findSession(ctx.db, sessionId);
  if (!session) throw notFound('session', sessionId);
  const [node, steps, rows] = await Promise.all([
    findNode(ctx.db, session.node_id),
    stepsOfSessions(ctx.db, [session.id]),
    listActions(ctx.db, session.id, actions.from, actions.limit),
  ]);
  return {
    session: { ...session, node_name: node?.name ?? null, steps: steps.get(session.id) ?? [] },
    actions: rows,
  };
}

export interface SessionLogPage {
  lines: LogLine[];
  next: number;
  /** Whether more lines may still come (the session has not ended). */
  live: boolean;
}

export async function readSessionLog(
  ctx: EngineContext,
  sessionId: number,
  from: number,
  limit: number,
): Promise<SessionLogPage> {
  const session = await findSession(ctx.db, sessionId);
  if (!session) throw notFound('session', sessionId);
  const lines = await readSessionLogLines(ctx.db, sessionId, from, limit);
  const last = lines.at(-1);
  return {
    lines,
    next: last ? last.line + 1 : Math.min(from, session.log_lines),
    live: session.lifecycle_status !== 'ENDED',
  };
}
