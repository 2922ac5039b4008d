import type { FastifyInstance, FastifyRequest } from 'fastify';
import { recordAuditEvent } from '../../engine/audit-trail.js';
import type { Engine } from '../../engine/engine.js';
import { findTask } from '../../store/tasks.js';
import { fromDeadlineId } from '../deadline/ids.js';
import { PERMISSIONS, routeKey, type Rule } from './permission-table.js';

/*
 * Writes the audit trail: every state-changing request a person makes (not the worker
 * protocol's steady stream of heartbeats and reports, nor logins), after it is answered,
 * refused ones included. Who, what, when, from which face and address, and the status.
 */

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);
const UNAUDITED = new Set<Rule['access']>(['worker', 'ufdl-node', 'login']);

function faceOf(url: string): string {
  if (url.startsWith('/api/v1/')) return 'native';
  if (url.startsWith('/v1/')) return 'ufdl';
  return 'scale';
}

/** One request names at most this many jobs in the trail; a bigger bulk change is cut. */
export const AUDITED_JOBS_PER_REQUEST = 1000;

function parsedBody(request: FastifyRequest): Record<string, unknown> | undefined {
  let body: unknown = request.body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  return body !== null && typeof body === 'object' && !Array.isArray(body)
    ? (body as Record<string, unknown>)
    : undefined;
}

const listOf = (value: unknown): unknown[] =>
  Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : [value];

/**
 * Deadline names jobs by 24 hex digits (or a native id), in the body or the query, one or a
 * list (`JobID` "a,b", undelete's `JobIDs`, save's `Job._id`), read as the Deadline face
 * reads them.
 */
function deadlineJobIds(request: FastifyRequest): number[] {
  const body = parsedBody(request);
  const query = request.query as { JobID?: unknown } | undefined;
  const saved = body?.Job as { _id?: unknown } | undefined;
  const named = body?.JobID ?? body?.JobIDs ?? saved?._id ?? query?.JobID;
  if (named === undefined || named === null) return [];
  return listOf(named).flatMap((text) => fromDeadlineId(text) ?? []);
}

/** Scale's bulk cancel and requeue name their jobs in `job_ids` (a filter names none). */
function scaleBulkJobIds(request: FastifyRequest, url: string): number[] {
  if (!/\/v6\/jobs\/(cancel|requeue)\/?$/.test(url)) return [];
  const ids = parsedBody(request)?.job_ids;
  return Array.isArray(ids) ? ids.filter((id): id is number => Number.isSafeInteger(id)) : [];
}

/** A job command of Scale's or UFDL's routes by its name (`…/cancel/` is "cancel"). */
const NAMED_COMMANDS: Record<string, string> = {
  cancel: 'cancel',
  requeue: 'requeue',
  reinstate: 'reinstate',
  hard: 'hard-delete',
};

function routeAction(method: string, url: string, rule: Rule): string {
  const last = url.replace(/\/$/, '').split('/').at(-1) ?? '';
  const named = NAMED_COMMANDS[last];
  if (named) return named;
  if (method === 'DELETE' && rule.job && last === `:${rule.job}`) return 'delete';
  return `${method} ${url}`;
}

function deadlineAction(request: FastifyRequest): string {
  if (request.method === 'DELETE') return 'delete';
  const body = typeof request.body === 'string' ? request.body : JSON.stringify(request.body);
  return /"Command"\s*:\s*"([A-Za-z]+)"/.exec(body ?? '')?.[1]?.toLowerCase() ?? request.method;
}

export function recordAuditTrail(
  app: FastifyInstance,
  engine: Engine,
  face: 'drover' | 'deadline',
): void {
  // An event is dated when the request came, before the change it made: a job's history
  // then reads "complete by alice" before the job's end, not after it.
  const arrivals = new WeakMap<FastifyRequest, number>();
  app.addHook('onRequest', async (request) => {
    if (!SAFE.has(request.method)) arrivals.set(request, engine.ctx.clock());
  });
  app.addHook('onResponse', async (request, reply) => {
    const url = request.routeOptions.url;
    if (SAFE.has(request.method) || url === undefined) return;
    const rule = PERMISSIONS[routeKey(face, request.method, url)];
    if (!rule || UNAUDITED.has(rule.access)) return;
    const params = (request.params ?? {}) as Record<string, string | undefined>;
    const jobParam = rule.job ? Number(params[rule.job]) : NaN;
    const isDeadline = face === 'deadline';
    const taskParam = rule.task ? Number(params[rule.task]) : NaN;
    let named = isDeadline
      ? deadlineJobIds(request)
      : Number.isSafeInteger(jobParam)
        ? [jobParam]
        : scaleBulkJobIds(request, url);
    if (Number.isSafeInteger(taskParam)) {
      // A task action changes the task's job: the trail is kept by job.
      const task = await findTask(engine.ctx.db, taskParam).catch(() => undefined);
      if (task) named = [task.job_id];
    }
    // One event per job named, so each job's trail (and Deadline's job history) has it.
    const jobIds: (number | null)[] = named.length
      ? [...new Set(named)].slice(0, AUDITED_JOBS_PER_REQUEST)
      : [null];
    const action = isDeadline
      ? deadlineAction(request)
      : (params.action ?? routeAction(request.method, url, rule));
    try {
      for (const jobId of jobIds) {
        await recordAuditEvent(engine.ctx, {
          at: arrivals.get(request) ?? engine.ctx.clock(),
          actor: request.principal?.name ?? 'anonymous',
          role: request.principal?.role ?? 'anonymous',
          face: isDeadline ? 'deadline' : faceOf(url),
          action,
          method: request.method,
          path: request.url.split('?')[0] ?? request.url,
          job_id: jobId,
          address: request.ip,
          status: reply.statusCode,
        });
      }
    } catch (error) {
      request.log.error({ err: error }, 'the audit trail could not be written');
    }
  });
}
