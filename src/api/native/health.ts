import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { sql } from 'kysely';
import type { Engine } from '../../engine/engine.js';

export function healthRoutes(engine: Engine): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/health',
      {
        schema: {
          tags: ['health'],
          summary: 'The process is up',
          response: { 200: Type.Object({ status: Type.Literal('ok') }) },
        },
      },
      async () => ({ status: 'ok' as const }),
    );

    app.get(
      '/ready',
      {
        schema: {
          tags: ['health'],
          summary: 'The database answers; safe to send traffic',
          response: {
            200: Type.Object({ status: Type.String(), database: Type.String() }),
            503: Type.Object({
              status: Type.String(),
              database: Type.String(),
              message: Type.String(),
            }),
          },
        },
      },
      async (_request, reply) => {
        try {
          await sql`select 1`.execute(engine.ctx.db);
          return { status: 'ready', database: engine.ctx.dialect };
        } catch (error) {
          return reply.status(503).send({
            status: 'unavailable',
            database: engine.ctx.dialect,
            message: `the database does not answer: ${(error as Error).message}`,
          });
        }
      },
    );
  };
}
