import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { MAX_ID } from '../../domain/job-bounds.js';
import type { Engine } from '../../engine/engine.js';
import { followLog } from '../../engine/executions/execution-logs.js';
import { getExecution } from '../../engine/queries.js';
import { listExecutions } from '../../store/executions.js';
import { waitSignal } from '../wait-signal.js';
import { Execution } from './execution-schemas.js';
import { nextLink } from './page-links.js';
import { executionJson } from './representations.js';
import { errorResponses, IdParams, Page, pageOf } from './schemas.js';

export const LogLine = Type.Object({
  line: Type.Integer(),
  // The process's own output, or the worker's lines about running it.
  stream: Type.Union([Type.Literal('stdout'), Type.Literal('stderr'), Type.Literal('worker')]),
  time: Type.String({ format: 'date-time' }),
  text: Type.String(),
});

export function executionRoutes(engine: Engine): FastifyPluginAsyncTypebox {
  const { ctx } = engine;
  return async (app) => {
    app.get(
      '/executions',
      {
        schema: {
          tags: ['executions'],
          summary: 'Executions (attempts of tasks on nodes)',
          querystring: Type.Intersect([
            Page,
            Type.Object({
              job: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_ID })),
              task: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_ID })),
              node: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_ID })),
              state: Type.Optional(Type.Array(Type.String())),
            }),
          ]),
          response: { 200: pageOf(Execution), ...errorResponses },
        },
      },
      async (request) => {
        const q = request.query;
        const limit = q.limit ?? 50;
        const offset = q.offset ?? 0;
        const { rows, total } = await listExecutions(
          ctx.db,
          {
            ...(q.job ? { jobId: q.job } : {}),
            ...(q.task ? { taskId: q.task } : {}),
            ...(q.node ? { nodeId: q.node } : {}),
            ...(q.state ? { states: q.state } : {}),
          },
          { limit, offset },
        );
        return {
          items: rows.map(executionJson),
          total,
          limit,
          offset,
          next: nextLink(request, { count: rows.length, total, limit, offset }),
        };
      },
    );

    app.get(
      '/executions/:id',
      {
        schema: {
          tags: ['executions'],
          summary: 'One execution',
          params: IdParams,
          response: { 200: Execution, ...errorResponses },
        },
      },
      async (request) => executionJson(await getExecution(ctx, request.params.id)),
    );

    app.get(
      '/executions/:id/logs',
      {
        schema: {
          tags: ['logs'],
          summary: "Read a range of an execution's log; with follow, wait for new lines",
          params: IdParams,
          querystring: Type.Object({
            from: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000, default: 1000 })),
            follow: Type.Optional(
              Type.Boolean({ description: 'Wait for lines when none are there yet' }),
            ),
            wait: Type.Optional(
              Type.Integer({ minimum: 0, maximum: 60, default: 25, description: 'Seconds' }),
            ),
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
      async (request, reply) => {
        const q = request.query;
        const signal = waitSignal(reply, engine.stopping);
        const page = await followLog(
          ctx,
          request.params.id,
          q.from ?? 0,
          q.limit ?? 1000,
          q.follow ? (q.wait ?? 25) * 1000 : 0,
          signal,
        );
        return {
          ...page,
          lines: page.lines.map((l) => ({ ...l, time: new Date(l.time).toISOString() })),
        };
      },
    );
  };
}
