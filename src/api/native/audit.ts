import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { auditEventsOf } from '../../engine/accounts/audit-trail.js';
import type { Engine } from '../../engine/engine.js';
import { beforePage } from './page-links.js';
import { iso } from './representations.js';
import { beforePaging, beforeQuery, errorResponses, Nullable } from './schemas.js';

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
          querystring: Type.Intersect([
            Type.Object({ jobId: Type.Optional(Type.Integer({ minimum: 1 })) }),
            beforeQuery(100),
          ]),
          response: {
            200: Type.Object({ items: Type.Array(AuditEvent), ...beforePaging }),
            ...errorResponses,
          },
        },
      },
      async (request) => {
        const { jobId, before } = request.query;
        const limit = request.query.limit ?? 100;
        const read = await auditEventsOf(engine.ctx, {
          ...(jobId !== undefined ? { jobId } : {}),
          ...(before !== undefined ? { before } : {}),
          limit: limit + 1,
        });
        const { rows, next } = beforePage(request, read, limit);
        return {
          limit,
          next,
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
