import type { Insertable } from 'kysely';
import type { DialectName, Executor, Tx } from './database.js';
import { linesOfBatches, type LogLine, type LogStream, type StoredLine } from './logs.js';
import type { SessionActionRow, SessionActionsTable, SessionRow, SessionsTable } from './schema.js';

/* OpenJD sessions, their actions and their logs (migration 0046, engine/sessions/). */

export async function findSession(db: Executor, id: number): Promise<SessionRow | undefined> {
  return db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Like findSession, locking the row with PostgreSQL (SQLite writers take turns anyway). */
export async function lockSession(
  tx: Tx,
  dialect: DialectName,
  id: number,
): Promise<SessionRow | undefined> {
  const query = tx.selectFrom('sessions').selectAll().where('id', '=', id);
  return (dialect === 'postgres' ? query.forUpdate() : query).executeTakeFirst();
}

export async function findSessionByToken(
  db: Executor,
  nodeId: number,
  token: string,
): Promise<SessionRow | undefined> {
  return db
    .selectFrom('sessions')
    .selectAll()
    .where('node_id', '=', nodeId)
    .where('client_token', '=', token)
    .executeTakeFirst();
}

export async function insertSession(
  tx: Executor,
  row: Insertable<SessionsTable>,
): Promise<SessionRow> {
  return tx.insertInto('sessions').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function updateSession(
  tx: Executor,
  id: number,
  patch: Partial<Omit<SessionRow, 'id'>>,
): Promise<void> {
  await tx.updateTable('sessions').set(patch).where('id', '=', id).execute();
}

/** Ends every session the node still has open, as the reaper does when the node goes silent. */
export async function endSessionsOfNode(
  tx: Executor,
  nodeId: number,
  reason: string,
  now: number,
): Promise<number> {
  const result = await tx
    .updateTable('sessions')
    .set({ lifecycle_status: 'ENDED', ended_reason: reason, ended_at: now, last_modified: now })
    .where('node_id', '=', nodeId)
    .where('lifecycle_status', '=', 'STARTED')
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Whether the node ran (or runs) a task of the job or of one of its step jobs. */
export async function nodeWorkedOnJob(
  db: Executor,
  nodeId: number,
  jobId: number,
): Promise<boolean> {
  const row = await db
    .selectFrom('executions')
    .innerJoin('jobs', 'jobs.id', 'executions.job_id')
    .select('executions.id')
    .where('executions.node_id', '=', nodeId)
    .where((eb) => eb.or([eb('jobs.id', '=', jobId), eb('jobs.parent_id', '=', jobId)]))
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** Writes actions by their index: a new one is added, a known one takes the new fields. */
export async function upsertActions(
  tx: Executor,
  rows: readonly Insertable<SessionActionsTable>[],
): Promise<void> {
  for (const row of rows) {
    const fields: Partial<typeof row> = { ...row };
    delete fields.session_id;
    delete fields.action_index;
    await tx
      .insertInto('session_actions')
      .values(row)
      .onConflict((oc) => oc.columns(['session_id', 'action_index']).doUpdateSet(fields))
      .execute();
  }
}

export async function countActions(db: Executor, sessionId: number): Promise<number> {
  const row = await db
    .selectFrom('session_actions')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('session_id', '=', sessionId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function listActions(
  db: Executor,
  sessionId: number,
  from: number,
  limit: number,
): Promise<SessionActionRow[]> {
  return db
    .selectFrom('session_actions')
    .selectAll()
    .where('session_id', '=', sessionId)
    .where('action_index', '>=', from)
    .orderBy('action_index')
    .limit(limit)
    .execute();
}

export type SessionListRow = SessionRow & { node_name: string | null; steps: number[] };

/**
 * The sessions of a job, oldest first: an OpenJD job's own, or, for a step job, its
 * parent's sessions that ran something of the step.
 */
export async function listSessionsOfJob(
  db: Executor,
  jobId: number,
  page: { limit: number; offset: number },
): Promise<{ rows: SessionListRow[]; total: number }> {
  const base = db
    .selectFrom('sessions')
    .where((eb) =>
      eb.or([
        eb('sessions.job_id', '=', jobId),
        eb(
          'sessions.id',
          'in',
          eb.selectFrom('session_actions').select('session_id').where('step_job_id', '=', jobId),
        ),
      ]),
    );
  const [rows, count] = await Promise.all([
    base
      .leftJoin('nodes', 'nodes.id', 'sessions.node_id')
      .selectAll('sessions')
      .select('nodes.name as node_name')
      .orderBy('sessions.id')
      .limit(page.limit)
      .offset(page.offset)
      .execute(),
    base.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow(),
  ]);
  const steps = await stepsOfSessions(
    db,
    rows.map((r) => r.id),
  );
  return {
    rows: rows.map((r) => ({ ...r, steps: steps.get(r.id) ?? [] })),
    total: Number(count.n),
  };
}

/** The step jobs each session ran actions of, in ascending order. */
export async function stepsOfSessions(
  db: Executor,
  ids: readonly number[],
): Promise<Map<number, number[]>> {
  const out = new Map<number, number[]>();
  if (ids.length === 0) return out;
  const rows = await db
    .selectFrom('session_actions')
    .select(['session_id', 'step_job_id'])
    .distinct()
    .where('session_id', 'in', ids)
    .where('step_job_id', 'is not', null)
    .orderBy('session_id')
    .orderBy('step_job_id')
    .execute();
  for (const row of rows) {
    const list = out.get(Number(row.session_id)) ?? [];
    list.push(Number(row.step_job_id));
    out.set(Number(row.session_id), list);
  }
  return out;
}

export async function appendSessionLogBatch(
  tx: Executor,
  sessionId: number,
  firstLine: number,
  lines: { stream: LogStream; time: number; text: string }[],
  now: number,
): Promise<void> {
  await tx
    .insertInto('session_log_batches')
    .values({
      session_id: sessionId,
      first_line: firstLine,
      line_count: lines.length,
      lines_json: JSON.stringify(lines.map((l): StoredLine => [l.stream, l.time, l.text])),
      created_at: now,
    })
    .execute();
}

export async function readSessionLogLines(
  db: Executor,
  sessionId: number,
  from: number,
  limit: number,
): Promise<LogLine[]> {
  const to = from + limit;
  const batches = await db
    .selectFrom('session_log_batches')
    .select(['first_line', 'line_count', 'lines_json'])
    .where('session_id', '=', sessionId)
    .where('first_line', '<', to)
    .where((eb) => eb(eb('first_line', '+', eb.ref('line_count')), '>', from))
    .orderBy('first_line')
    .execute();
  return linesOfBatches(batches, from, to);
}
