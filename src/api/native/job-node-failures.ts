import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { MAX_ID } from '../../domain/job-bounds.js';
import type { Engine } from '../../engine/engine.js';
import { clearJobNodeFailures, jobNodeFailures } from '../../engine/jobs/bad-nodes.js';
import { pageOfList } from './page-links.js';
import { iso } from './representations.js';
import { errorResponses, IdParams, Nullable, pageOf, pageQuery, Time } from './schemas.js';

/*
 * Bad nodes (docs/scheduling.md): which nodes failed a job, which of them the job's
 * badNodeFailures has blocked from it, and clearing them so they may take it again.
 */

const NodeFailure = Type.Object({
  nodeId: Type.Integer(),
  nodeName: Nullable(Type.String({ description: 'null once the node is deleted' })),
  failures: Type.Integer({ description: 'Failed executions of the job on the node since cleared' }),
  blocked: Type.Boolean({ description: 'The node no longer takes the job' }),
  lastFailureAt: Time,
});

export function jobNodeFailureRoutes(engine: Engine): FastifyPluginAsyncTypebox {
  const { ctx } = engine;
  return async (app) => {
    app.get(
      '/jobs/:id/node-failures',
      {
        schema: {
          tags: ['jobs'],
          summary: 'The nodes that failed the job, most failures first, and which are blocked',
          params: IdParams,
          querystring: pageQuery(100),
          response: { 200: pageOf(NodeFailure), ...errorResponses },
        },
      },
      async (request) =>
        pageOfList(
          request,
          (await jobNodeFailures(ctx, request.params.id)).map((f) => ({
            ...f,
            lastFailureAt: iso(f.lastFailureAt),
          })),
          request.query,
          100,
        ),
    );

    app.delete(
      '/jobs/:id/node-failures',
      {
        schema: {
          tags: ['jobs'],
          summary:
            "Forget the job's failures on one node (?node=ID) or all: blocked nodes take it again",
          params: IdParams,
          querystring: Type.Object(
            { node: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_ID })) },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({
              unblocked: Type.Integer({ description: 'Blocked nodes let back to the job' }),
            }),
            ...errorResponses,
          },
        },
      },
      async (request) => ({
        unblocked: await clearJobNodeFailures(ctx, request.params.id, request.query.node),
      }),
    );
  };
}
