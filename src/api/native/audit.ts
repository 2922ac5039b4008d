import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { auditEventsOf } from '../../engine/accounts/audit-trail.js';
import type { Engine } from '../../engine/engine.js';
import { iso } from './representations.js';
import { errorResponses, Nullable } from './schemas.js';

/* The audit trail, newest first: what was changed, by whom, when, through which face. */

const AuditEvent = Type.Object({
  id: Type.Integer(),
  at: Type.String({ format: 'date-time' }),
  actor: Type.String(),
  role: Type.String(),
  face: Type.String({ description: 'native, deadline, ufdl or scale' }),
  action: Type.String({ description: 'The command or action, else METHOD and route' }),
  method: Type.String(),
  path: Type.String(),
  jobId: Nullable(Type.Integer()),
  address: Type.String(),
  status: Type.Integer(),
  summary: Type.String({ description: 'e.g. "suspend by bob via deadline"' }),
});

export function auditRoutes(engine: Engine): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/audit',
      {
        schema: {
          tags: ['audit'],
          summary: 'State-changing requests, newest first; `jobId` keeps those of one job',
          querystring: Type.Object({
            jobId: Type.Optional(Type.Integer({ minimum: 1 })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
          }),
          response: { 200: Type.Object({ items: Type.Array(AuditEvent) }), ...errorResponses },
        },
      },
      async (request) => {
        const rows = await auditEventsOf(engine.ctx, {
          ...(request.query.jobId !== undefined ? { jobId: request.query.jobId } : {}),
          limit: request.query.limit ?? 100,
        });
        return {
          items: rows.map((r) => ({
            id: r.id,
            at: iso(r.at)!,
            actor: r.actor,
            role: r.role,
            face: r.face,
            action: r.action,
            method: r.method,
            path: r.path,
            jobId: r.job_id,
            address: r.address,
            status: r.status,
            summary: `${r.action} by ${r.actor} via ${r.face}${r.status >= 400 ? ` (refused: ${r.status})` : ''}`,
          })),
        };
      },
    );
  };
}
