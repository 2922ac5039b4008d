import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Engine } from '../../engine/engine.js';
import { setNodeEnabled } from '../../engine/nodes/node-registry.js';
import { getNodeWithWork } from '../../engine/queries.js';
import { liveExecutionsOfNode } from '../../store/executions.js';
import { listNodes } from '../../store/nodes.js';
import { nextLink } from './page-links.js';
import { nodeJson } from './representations.js';
import { errorResponses, IdParams, Node, pageQuery, pageOf } from './schemas.js';

export function nodeRoutes(engine: Engine): FastifyPluginAsyncTypebox {
  const { ctx } = engine;
  return async (app) => {
    app.get(
      '/nodes',
      {
        schema: {
          tags: ['nodes'],
          summary: 'Every worker node',
          querystring: Type.Intersect([
            pageQuery(100),
            Type.Object({
              state: Type.Optional(
                Type.Array(Type.Union([Type.Literal('ONLINE'), Type.Literal('OFFLINE')])),
              ),
            }),
          ]),
          response: { 200: pageOf(Node), ...errorResponses },
        },
      },
      async (request) => {
        const limit = request.query.limit ?? 100;
        const offset = request.query.offset ?? 0;
        const { rows, total } = await listNodes(ctx.db, {
          ...(request.query.state ? { states: request.query.state } : {}),
          limit,
          offset,
        });
        const items = await Promise.all(
          rows.map(async (n) =>
            nodeJson(
              n,
              (await liveExecutionsOfNode(ctx.db, n.id)).map((e) => e.id),
            ),
          ),
        );
        return {
          items,
          total,
          limit,
          offset,
          next: nextLink(request, { count: items.length, total, limit, offset }),
        };
      },
    );

    app.get(
      '/nodes/:id',
      {
        schema: {
          tags: ['nodes'],
          summary: 'One node',
          params: IdParams,
          response: { 200: Node, ...errorResponses },
        },
      },
      async (request) => {
        const { node, executions } = await getNodeWithWork(ctx, request.params.id);
        return nodeJson(node, executions);
      },
    );

    for (const action of ['enable', 'disable'] as const) {
      app.post(
        `/nodes/:id/${action}`,
        {
          schema: {
            tags: ['nodes'],
            summary:
              action === 'enable'
                ? 'Let the node take work'
                : 'Stop giving the node work (running tasks finish)',
            params: IdParams,
            response: { 200: Node, ...errorResponses },
          },
        },
        async (request) => {
          await setNodeEnabled(ctx, request.params.id, action === 'enable');
          const { node, executions } = await getNodeWithWork(ctx, request.params.id);
          return nodeJson(node, executions);
        },
      );
    }
  };
}
