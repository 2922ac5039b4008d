import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Engine } from '../../engine/engine.js';
import {
  readSessionLog,
  sessionsOfJob,
  sessionWithActions,
} from '../../engine/sessions/session-reads.js';
import { LogLine } from './executions.js';
import { nextLink } from './page-links.js';
import { errorResponses, IdParams, MAX_PAGE, Page, pageOf } from './schemas.js';
import { Session, sessionActionJson, sessionJson, SessionWithActions } from './session-schemas.js';

/* Reading OpenJD sessions: whoever may read a job's logs may read its sessions. */

export function sessionRoutes(engine: Engine): FastifyPluginAsyncTypebox {
  const { ctx } = engine;
  return async (app) => {
    app.get(
      '/jobs/:id/sessions',
      {
        schema: {
          tags: ['sessions'],
          summary: "A job's OpenJD sessions, oldest first (a step job: those that ran it)",
          params: IdParams,
          querystring: Page,
          response: { 200: pageOf(Session), ...errorResponses },
        },
      },
      async (request) => {
        const limit = request.query.limit ?? 50;
        const offset = request.query.offset ?? 0;
        const { rows, total } = await sessionsOfJob(ctx, request.params.id, { limit, offset });
        return {
          items: rows.map(sessionJson),
          total,
          limit,
          offset,
          next: nextLink(request, { count: rows.length, total, limit, offset }),
        };
      },
    );

    app.get(
      '/sessions/:id',
      {
        schema: {
          tags: ['sessions'],
          summary: 'One session and its actions in order (a range of them: from, limit)',
          params: IdParams,
          querystring: Type.Object({
            from: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
            limit: Type.Optional(
              Type.Integer({ minimum: 1, maximum: MAX_PAGE, default: MAX_PAGE }),
            ),
          }),
          response: { 200: SessionWithActions, ...errorResponses },
        },
      },
      async (request) => {
        const { session, actions } = await sessionWithActions(ctx, request.params.id, {
          from: request.query.from ?? 0,
          limit: request.query.limit ?? MAX_PAGE,
        });
        return { ...sessionJson(session), actions: actions.map(sessionActionJson) };
      },
    );

    app.get(
      '/sessions/:id/log',
      {
        schema: {
          tags: ['logs'],
          summary: "Read a range of a session's log (its environments' output, a line per task)",
          params: IdParams,
          querystring: Type.Object({
            from: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000, default: 1000 })),
          }),
          response: {
            200: Type.Object({
              lines: Type.Array(LogLine),
              next: Type.Integer(),
              live: Type.Boolean(),
            }),
            ...errorResponses,
          },
        },
      },
      async (request) => {
        const page = await readSessionLog(
          ctx,
          request.params.id,
          request.query.from ?? 0,
          request.query.limit ?? 1000,
        );
        return {
          ...page,
          lines: page.lines.map((l) => ({ ...l, time: new Date(l.time).toISOString() })),
        };
      },
    );
  };
}
