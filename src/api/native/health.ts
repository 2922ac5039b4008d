import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { sql } from 'kysely';
import type { Engine } from '../../engine/engine.js';
import { migrationState } from '../../store/migrate.js';

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
          summary:
            "Safe to send traffic: the database answers, its schema is this build's, and (PostgreSQL) the event bus is connected; 503 says what is wrong",
          response: {
            200: Type.Object({ status: Type.String(), database: Type.String() }),
            503: Type.Object({
              status: Type.String(),
              database: Type.String(),
              message: Type.String({ description: 'Every problem, one sentence each' }),
              problems: Type.Array(Type.String()),
              requestId: Type.String(),
            }),
          },
        },
      },
      async (request, reply) => {
        const problems = await readinessProblems(engine);
        if (problems.length === 0) return { status: 'ready', database: engine.ctx.dialect };
        return reply.status(503).send({
          status: 'unavailable',
          database: engine.ctx.dialect,
          message: problems.join('; '),
          problems,
          requestId: request.id,
        });
      },
    );
  };
}

/** What keeps this replica from serving: the database, its schema, the event bus. */
async function readinessProblems(engine: Engine): Promise<string[]> {
  const problems: string[] = [];
  try {
    await sql`select 1`.execute(engine.ctx.db);
  } catch (error) {
    // Nothing below can be asked of a database that does not answer.
    return [`the database does not answer: ${(error as Error).message}`];
  }
  try {
    const { pending, unknown } = await migrationState(engine.database);
    if (pending.length > 0) {
      problems.push(
        `migrations pending: ${pending.join(', ')} (run \`drover migrate\`, or restart the server)`,
      );
    }
    if (unknown.length > 0) {
      problems.push(
        `the database was migrated by a newer Drover (${unknown.join(', ')}); run that version`,
      );
    }
  } catch (error) {
    problems.push(`the migrations cannot be read: ${(error as Error).message}`);
  }
  const bus = engine.ctx.bus.down;
  if (bus) problems.push(bus);
  return problems;
}
