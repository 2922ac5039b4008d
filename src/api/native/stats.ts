import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Engine } from '../../engine/engine.js';
import { jobTimings } from '../../store/job-timings.js';
import { countJobsByState } from '../../store/jobs.js';
import { countNodesByState, countNodesByStatus } from '../../store/nodes.js';
import { MINUTE_MS, tasksCompletedPerMinute } from '../../store/task-throughput.js';
import { countTasksByState } from '../../store/tasks.js';
import { iso } from './representations.js';
import { errorResponses, Nullable } from './schemas.js';

const Counts = Type.Record(Type.String(), Type.Integer());

/** A page of a jobs table at a time: as many ids as its largest page. */
const MAX_TIMING_IDS = 100;

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

    app.get(
      '/stats/jobs',
      {
        schema: {
          tags: ['stats'],
          summary:
            'For the given jobs: failed tries, and the mean duration of their newest completed tries (up to 200 each), for an ETA',
          querystring: Type.Object(
            {
              ids: Type.String({
                pattern: `^[1-9][0-9]{0,15}(,[1-9][0-9]{0,15}){0,${MAX_TIMING_IDS - 1}}$`,
                description: `Job ids, comma-separated, at most ${MAX_TIMING_IDS}`,
              }),
            },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({
              items: Type.Array(
                Type.Object({
                  jobId: Type.Integer(),
                  errors: Type.Integer({ description: 'Failed executions' }),
                  sampled: Type.Integer({
                    description: 'Completed executions the mean is taken over',
                  }),
                  meanTaskMs: Nullable(Type.Number({ description: 'Null when none completed' })),
                }),
              ),
            }),
            ...errorResponses,
          },
        },
      },
      async (request) => {
        // An id of no job reads as no tries: a row deleted meanwhile is no error.
        const ids = [...new Set(request.query.ids.split(',').map(Number))];
        const timings = await jobTimings(ctx.db, ids);
        return {
          items: ids.map((jobId) => {
            const t = timings.get(jobId)!;
            return { jobId, errors: t.errors, sampled: t.sampled, meanTaskMs: t.meanMs };
          }),
        };
      },
    );
  };
}
