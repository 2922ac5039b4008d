import type { FastifyPluginAsync } from 'fastify';
import { priorityToScale } from '../../domain/priority.js';
import type { Engine } from '../../engine/engine.js';
import { queueGroups } from '../../store/queue-groups.js';
import { jobTypesByIds } from '../../store/rows-by-ids.js';
import { loadJobTypeContext } from './job-context.js';
import { paginate } from './pagination.js';
import { scaleTime as time } from './params.js';
import { jobTypeBase } from './serializers.js';

/*
 * GET /v6/queue/status/ (Scale's queue app, QueueStatusView): the queue by job type, each
 * with how many jobs wait for a node, since when the oldest waits, and the best priority
 * (Scale's lowest number), paused job types last. Scale's queue holds the jobs waiting for
 * a node: Drover's jobs with queued tasks, so a requeue with a priority shows here at once.
 */

export function v6QueueRoutes(engine: Engine): FastifyPluginAsync {
  const { ctx } = engine;
  return async (app) => {
    app.get('/queue/status/', async (request) =>
      paginate(
        request,
        (page) => queueGroups(ctx.db, page),
        async (groups) => {
          const types = await jobTypesByIds(
            ctx.db,
            groups.map((g) => g.job_type_id),
          );
          const { latest, unmet } = await loadJobTypeContext(ctx, [...types.values()]);
          return groups.map((g) => {
            const type = types.get(g.job_type_id)!;
            return {
              job_type: jobTypeBase(type, unmet.get(type.id) ?? null, latest.get(type.id)),
              count: g.count,
              longest_queued: time(g.longest_queued),
              highest_priority: priorityToScale(g.top_priority),
            };
          });
        },
      ),
    );
  };
}
