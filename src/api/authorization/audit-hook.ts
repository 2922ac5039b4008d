import type { FastifyInstance, FastifyRequest } from 'fastify';
import { recordAuditEvent } from '../../engine/audit-trail.js';
import type { Engine } from '../../engine/engine.js';
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

/** Deadline names jobs by 24 hex digits (or a native id), in the body or the query. */
function deadlineJobId(request: FastifyRequest): number | null {
  let body: unknown = request.body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      body = undefined;
    }
  }
  const fromBody = (body as { JobID?: unknown } | undefined)?.JobID;
  const fromQuery = (request.query as { JobID?: unknown } | undefined)?.JobID;
  const text = String(fromBody ?? fromQuery ?? '').split(',')[0];
  // As the Deadline face reads it: a decimal native id is a job too, not hex digits.
  return fromDeadlineId(text) ?? null;
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
  app.addHook('onResponse', async (request, reply) => {
    const url = request.routeOptions.url;
    if (SAFE.has(request.method) || url === undefined) return;
    const rule = PERMISSIONS[routeKey(face, request.method, url)];
    if (!rule || UNAUDITED.has(rule.access)) return;
    const params = (request.params ?? {}) as Record<string, string | undefined>;
    const jobParam = rule.job ? Number(params[rule.job]) : NaN;
    const isDeadline = face === 'deadline';
    const jobId = isDeadline
      ? deadlineJobId(request)
      : Number.isSafeInteger(jobParam)
        ? jobParam
        : null;
    const action = isDeadline
      ? deadlineAction(request)
      : (params.action ?? `${request.method} ${url}`);
    try {
      await recordAuditEvent(engine.ctx, {
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
    } catch (error) {
      request.log.error({ err: error }, 'the audit trail could not be written');
    }
  });
}
