import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Engine } from '../../engine/engine.js';
import { idleReasons, MAX_IDLE_REASON_JOBS } from '../../engine/nodes/idle-reasons.js';
import { setNodeMemberships } from '../../engine/nodes/node-properties.js';
import { clearNodeQuarantine } from '../../engine/nodes/node-quarantine.js';
import { setNodeEnabled } from '../../engine/nodes/node-registry.js';
import { getNodeWithWork } from '../../engine/queries.js';
import { liveExecutionsOfNode } from '../../store/executions.js';
import { listNodes } from '../../store/nodes.js';
import { Node } from './node-schemas.js';
import { nextLink } from './page-links.js';
import { nodeJson } from './representations.js';
import { errorResponses, IdParams, pageQuery, pageOf } from './schemas.js';

/* Pool and group names as a job names them: no commas (lists are comma-separated), no edge blanks. */
const MembershipNames = (what: string) =>
  Type.Array(
    Type.String({
      minLength: 1,
      maxLength: 128,
      pattern: '^[^,\\s]([^,]*[^,\\s])?$',
      description: `A ${what} name: no commas, no leading or trailing blanks`,
    }),
    { maxItems: 64, description: `Every ${what} the node serves; [] takes only ${what}-less jobs` },
  );

/* null: the admin's list is forgotten, and the node serves its worker's own again. */
const Membership = (what: string) => Type.Union([MembershipNames(what), Type.Null()]);

const NodeChanges = Type.Object(
  {
    pools: Type.Optional(Membership('pool')),
    groups: Type.Optional(Membership('group')),
  },
  { additionalProperties: false, minProperties: 1 },
);

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

    app.patch(
      '/nodes/:id',
      {
        schema: {
          tags: ['nodes'],
          summary:
            "Change the pools and groups a node serves (admins). They stick when the worker registers again; null gives the node back the worker's own list",
          params: IdParams,
          body: NodeChanges,
          response: { 200: Node, ...errorResponses },
        },
      },
      async (request) => {
        await setNodeMemberships(ctx, request.params.id, request.body);
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

    app.delete(
      '/nodes/:id/quarantine',
      {
        schema: {
          tags: ['nodes'],
          summary:
            'Lift the quarantine its failure rate put the node in: it takes work again, and its failures until now no longer count (409 when it is not quarantined)',
          params: IdParams,
          response: { 200: Node, ...errorResponses },
        },
      },
      async (request) => {
        await clearNodeQuarantine(ctx, request.params.id);
        const { node, executions } = await getNodeWithWork(ctx, request.params.id);
        return nodeJson(node, executions);
      },
    );

    const Reason = Type.Object({ code: Type.String(), message: Type.String() });
    app.get(
      '/nodes/:id/idle-reasons',
      {
        schema: {
          tags: ['nodes'],
          summary:
            "Why a node is idle: what stops the node itself, then what stops it from taking each queued job, in the claim's order (a job with no reason is one it takes at its next claim); the mirror of /jobs/{id}/waiting-reasons",
          params: IdParams,
          querystring: Type.Object({
            limit: Type.Optional(
              Type.Integer({
                minimum: 1,
                maximum: MAX_IDLE_REASON_JOBS,
                default: 20,
                description: 'How many queued jobs to explain, first in the claim order',
              }),
            ),
          }),
          response: {
            200: Type.Object({
              nodeId: Type.Integer(),
              nodeName: Type.String(),
              status: Type.String(),
              reasons: Type.Array(Reason),
              jobs: Type.Array(
                Type.Object({
                  jobId: Type.Integer(),
                  name: Type.String(),
                  priority: Type.Integer(),
                  reasons: Type.Array(Reason),
                }),
              ),
              queuedJobs: Type.Integer(),
            }),
            ...errorResponses,
          },
        },
      },
      async (request) => idleReasons(ctx, request.params.id, request.query.limit ?? 20),
    );
  };
}
