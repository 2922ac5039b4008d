import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Engine } from '../../engine/engine.js';
import { countJobsByState } from '../../store/jobs.js';
import { countNodesByState, countNodesByStatus } from '../../store/nodes.js';
import { MINUTE_MS, tasksCompletedPerMinute } from '../../store/task-throughput.js';
import { countTasksByState } from '../../store/tasks.js';
import { iso } from './representations.js';
import { errorResponses } from './schemas.js';

const Counts = Type.Record(Type.String(), Type.Integer());

/** Figures for an overview page: counts by state and recent throughput. */
export function statsRoutes(engine: Engine): FastifyPluginAsyncTypebox {
  const { ctx } = engine;
  return async (app) => {
    app.get(
      '/stats/counts',
      {
        schema: {
          tags: ['stats'],
          summary: 'Jobs and tasks by state (deleted jobs excluded) and nodes by state',
          response: {
            200: Type.Object({
              jobs: Counts,
              tasks: Counts,
              nodes: Counts,
              nodeStatuses: Type.Record(Type.String(), Type.Integer(), {
                description: 'Nodes by status: IDLE, BUSY, DISABLED, OFFLINE',
              }),
            }),
            ...errorResponses,
          },
        },
      },
      async () => {
        const [jobs, tasks, nodes, nodeStatuses] = await Promise.all([
          countJobsByState(ctx.db),
          countTasksByState(ctx.db),
          countNodesByState(ctx.db),
          countNodesByStatus(ctx.db),
        ]);
        return { jobs, tasks, nodes, nodeStatuses };
      },
    );

    app.get(
      '/stats/throughput',
      {
        schema: {
          tags: ['stats'],
          summary: 'Tasks completed per minute over the last minutes (oldest first, zeros kept)',
          querystring: Type.Object({
            minutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 1440, default: 60 })),
          }),
          response: {
            200: Type.Object({
              minutes: Type.Array(
                Type.Object({
                  start: Type.String({ format: 'date-time' }),
                  completed: Type.Integer(),
                }),
              ),
            }),
            ...errorResponses,
          },
        },
      },
      async (request) => {
        const count = request.query.minutes ?? 60;
        const current = Math.floor(ctx.clock() / MINUTE_MS);
        const first = current - count + 1;
        const rows = await tasksCompletedPerMinute(ctx.db, first * MINUTE_MS);
        const byMinute = new Map(rows.map((r) => [r.minute, r.completed]));
        return {
          minutes: Array.from({ length: count }, (_, i) => ({
            start: iso((first + i) * MINUTE_MS)!,
            completed: byMinute.get(first + i) ?? 0,
          })),
        };
      },
    );
  };
}
