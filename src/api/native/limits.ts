import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  LIMIT_NAME_PATTERN,
  LIMIT_PER,
  MAX_LIMIT_COUNT,
  MAX_LIMIT_DESCRIPTION,
  MAX_LIMIT_NODES,
  MAX_NODE_NAME_LENGTH,
} from '../../domain/limits.js';
import type { Engine } from '../../engine/engine.js';
import {
  createLimit,
  deleteLimit,
  getLimit,
  listLimits,
  updateLimit,
  type LimitView,
} from '../../engine/limits/limits.js';
import { pageOfList } from './page-links.js';
import { iso } from './representations.js';
import { errorResponses, pageOf, pageQuery, StringEnum, Time } from './schemas.js';

/*
 * Limits (docs/scheduling.md): floating licences and other shared resources. Anyone may
 * read them; only admins make, change or delete them, since they hold back every user's jobs.
 */

const Name = Type.String({
  pattern: LIMIT_NAME_PATTERN,
  description: 'Letters, digits, "_", "." or "-"; matched in lower case',
});
const MaxCount = Type.Integer({
  minimum: 0,
  maximum: MAX_LIMIT_COUNT,
  description: 'How many may be in use at once (0 holds every job naming it)',
});
const Per = StringEnum(LIMIT_PER, {
  description: 'TASK (default): each running task takes one; MACHINE: each node running any',
});
const Nodes = Type.Array(Type.String({ minLength: 1, maxLength: MAX_NODE_NAME_LENGTH }), {
  maxItems: MAX_LIMIT_NODES,
});
const Description = Type.String({ maxLength: MAX_LIMIT_DESCRIPTION });

export const Limit = Type.Object({
  name: Type.String(),
  maxCount: Type.Integer(),
  per: StringEnum(LIMIT_PER),
  nodeList: Type.Object({
    mode: StringEnum(['NONE', 'ALLOW', 'DENY'] as const),
    nodes: Type.Array(Type.String()),
  }),
  description: Type.String(),
  inUse: Type.Integer({ description: 'Running tasks (per TASK) or nodes (per MACHINE) now' }),
  createdAt: Time,
  lastModified: Time,
});

const NameParams = Type.Object({ name: Name }, { additionalProperties: false });

const render = (v: LimitView) => ({
  name: v.name,
  maxCount: v.maxCount,
  per: v.per,
  nodeList: { mode: v.nodeListMode, nodes: v.nodes },
  description: v.description,
  inUse: v.inUse,
  createdAt: iso(v.createdAt),
  lastModified: iso(v.lastModified),
});

export function limitRoutes(engine: Engine): FastifyPluginAsyncTypebox {
  const { ctx } = engine;
  return async (app) => {
    app.get(
      '/limits',
      {
        schema: {
          tags: ['limits'],
          summary: 'Every limit, with what it has in use',
          querystring: pageQuery(100),
          response: { 200: pageOf(Limit), ...errorResponses },
        },
      },
      async (request) =>
        pageOfList(request, (await listLimits(ctx)).map(render), request.query, 100),
    );

    app.post(
      '/limits',
      {
        schema: {
          tags: ['limits'],
          summary: 'Create a limit; jobs that already name it may run',
          body: Type.Object(
            {
              name: Name,
              maxCount: MaxCount,
              per: Type.Optional(Per),
              allowList: Type.Optional(Nodes),
              denyList: Type.Optional(Nodes),
              description: Type.Optional(Description),
            },
            { additionalProperties: false },
          ),
          response: { 201: Limit, ...errorResponses },
        },
      },
      async (request, reply) => {
        const view = await createLimit(ctx, request.body);
        void reply.status(201).header('Location', `/api/v1/limits/${view.name}`);
        return render(view);
      },
    );

    app.get(
      '/limits/:name',
      {
        schema: {
          tags: ['limits'],
          summary: 'One limit, with what it has in use',
          params: NameParams,
          response: { 200: Limit, ...errorResponses },
        },
      },
      async (request) => render(await getLimit(ctx, request.params.name)),
    );

    app.patch(
      '/limits/:name',
      {
        schema: {
          tags: ['limits'],
          summary:
            'Change a limit; a lower count stops no running task, it only holds back new ones',
          params: NameParams,
          body: Type.Object(
            {
              maxCount: Type.Optional(MaxCount),
              per: Type.Optional(Per),
              allowList: Type.Optional(Nodes),
              denyList: Type.Optional(Nodes),
              description: Type.Optional(Description),
            },
            { additionalProperties: false, minProperties: 1 },
          ),
          response: { 200: Limit, ...errorResponses },
        },
      },
      async (request) => render(await updateLimit(ctx, request.params.name, request.body)),
    );

    app.delete(
      '/limits/:name',
      {
        schema: {
          tags: ['limits'],
          summary: 'Delete a limit; jobs naming it wait until one of that name exists again',
          params: NameParams,
          response: { 204: Type.Null(), ...errorResponses },
        },
      },
      async (request, reply) => {
        await deleteLimit(ctx, request.params.name);
        return reply.status(204).send(null);
      },
    );
  };
}
