import type {
  FastifyInstance,
  FastifyRequest,
  onRequestAsyncHookHandler,
  onResponseAsyncHookHandler,
  RouteOptions,
} from 'fastify';
import {
  recordAuditEvent,
  recordJobAuditEvents,
  type AuditEntry,
} from '../../engine/accounts/audit-trail.js';
import type { Engine } from '../../engine/engine.js';
import { findTask } from '../../store/tasks.js';
import { fromDeadlineId } from '../deadline/ids.js';
import { PERMISSIONS, routeKey, type Rule } from './permission-table.js';

/*
 * Writes the audit trail: every state-changing request a person makes (not the worker
 * protocol's steady stream of heartbeats and reports, nor logins), after it is answered,
 * refused ones included. Who, what, when, from which face and address, and the status.
 * A request about jobs gets one entry per job, so each job's page (and Deadline's job
 * history) shows it; one about nothing in particular (a grant, a node) one entry without a
 * job. Scale's bulk commands record their jobs themselves, once they know them (v6-jobs.ts).
 */

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);
const UNAUDITED = new Set<Rule['access']>(['worker', 'ufdl-node', 'login']);
/** Jobs one Deadline request may name that get an entry each (its lists are bounded by the body limit). */
const MAX_DEADLINE_JOBS = 10_000;

type Face = 'drover' | 'deadline';

function faceOf(url: string): string {
  if (url.startsWith('/api/v1/')) return 'native';
  if (url.startsWith('/v1/')) return 'ufdl';
  return 'scale';
}

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

/**
 * Deadline names jobs by 24 hex digits (or a native id), in the body or the query, one or a
 * list (`JobID` "a,b", undelete's `JobIDs`, save's `Job._id`), read as the Deadline face
 * reads them.
 */
function deadlineJobIds(request: FastifyRequest): number[] {
  const body = parsedBody(request);
  const query = request.query as { JobID?: unknown } | undefined;
  const saved = body?.Job as { _id?: unknown } | undefined;
  const named = body?.JobIDs ?? body?.JobID ?? saved?._id ?? query?.JobID;
  if (named === undefined || named === null) return [];
  const texts = Array.isArray(named)
    ? named
    : typeof named === 'string'
      ? named.split(',')
      : [named];
  const ids = new Set<number>();
  for (const text of texts.slice(0, MAX_DEADLINE_JOBS)) {
    const id = fromDeadlineId(text);
    if (id !== undefined) ids.add(id);
  }
  return [...ids];
}

/** The jobs Scale's bulk cancel and requeue name in `job_ids` (see v6-jobs.ts). */
export function scaleBulkJobIds(request: FastifyRequest): number[] {
  const url = request.routeOptions.url ?? '';
  if (!/\/v6\/jobs\/(cancel|requeue)\/?$/.test(url)) return [];
  const ids = parsedBody(request)?.job_ids;
  return Array.isArray(ids)
    ? [...new Set(ids.filter((id): id is number => Number.isSafeInteger(id)))]
    : [];
}

function deadlineAction(request: FastifyRequest): string {
  if (request.method === 'DELETE') {
    const purge = String((request.query as { Purge?: unknown } | undefined)?.Purge);
    return /^true$/i.test(purge) ? 'purge' : 'delete';
  }
  const body = typeof request.body === 'string' ? request.body : JSON.stringify(request.body);
  return /"Command"\s*:\s*"([A-Za-z]+)"/.exec(body ?? '')?.[1]?.toLowerCase() ?? request.method;
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

/** The entry for `request`, less its job: who, from where, which face, with what answer. */
export function auditEntryOf(
  request: FastifyRequest,
  face: Face,
  action: string,
  status: number,
): Omit<AuditEntry, 'job_id'> {
  const url = request.routeOptions.url ?? request.url;
  const at = arrivals.get(request);
  return {
    ...(at !== undefined ? { at } : {}),
    actor: request.principal?.name ?? 'anonymous',
    role: request.principal?.role ?? 'anonymous',
    face: face === 'deadline' ? 'deadline' : faceOf(url),
    action,
    method: request.method,
    path: request.url.split('?')[0] ?? request.url,
    address: request.ip,
    status,
  };
}

/** The jobs a request names: in its path (a job, or a task's job), or Deadline's lists. */
async function jobsOf(engine: Engine, request: FastifyRequest, face: Face, rule: Rule) {
  if (face === 'deadline') return deadlineJobIds(request);
  const params = (request.params ?? {}) as Record<string, string | undefined>;
  const job = rule.job ? Number(params[rule.job]) : NaN;
  if (Number.isSafeInteger(job)) return [job];
  const taskId = rule.task ? Number(params[rule.task]) : NaN;
  if (!Number.isSafeInteger(taskId)) return [];
  const task = await findTask(engine.ctx.db, taskId);
  return task ? [task.job_id] : [];
}

/**
 * When each changing request came: its entries are dated then, before the change it made,
 * so a job's history reads "complete by alice" before the job's end, not after it.
 */
const arrivals = new WeakMap<FastifyRequest, number>();

export function recordAuditTrail(app: FastifyInstance, engine: Engine, face: Face): void {
  // Only the routes the trail records get its hooks. The worker protocol's stream of claims,
  // starts and finishes is unaudited, and asking of each of its requests whether it was
  // took ~2% of the server's time (bench/peer.ts --mode single, SQLite).
  app.addHook('onRoute', (route: RouteOptions) => {
    const url = route.url!;
    const rules = new Map<string, Rule>();
    for (const method of [route.method].flat()) {
      const rule = SAFE.has(method) ? undefined : PERMISSIONS[routeKey(face, method, url)];
      if (rule && !UNAUDITED.has(rule.access)) rules.set(method, rule);
    }
    if (rules.size === 0) return;
    const arrived: onRequestAsyncHookHandler = async (request) => {
      if (rules.has(request.method)) arrivals.set(request, engine.ctx.clock());
    };
    const record: onResponseAsyncHookHandler = async (request, reply) => {
      const rule = rules.get(request.method);
      if (!rule) return;
      const params = (request.params ?? {}) as Record<string, string | undefined>;
      const action =
        face === 'deadline'
          ? deadlineAction(request)
          : (params.action ?? routeAction(request.method, url, rule));
      const entry = auditEntryOf(request, face, action, reply.statusCode);
      try {
        const jobs = await jobsOf(engine, request, face, rule);
        if (jobs.length === 0) await recordAuditEvent(engine.ctx, { ...entry, job_id: null });
        else await recordJobAuditEvents(engine.ctx, entry, jobs);
      } catch (error) {
        request.log.error({ err: error }, 'the audit trail could not be written');
      }
    };
    route.onRequest = [...[route.onRequest ?? []].flat(), arrived];
    route.onResponse = [...[route.onResponse ?? []].flat(), record];
  });
}
