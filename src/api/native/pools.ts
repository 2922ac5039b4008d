import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Engine } from '../../engine/engine.js';
import {
  deletePool,
  getPool,
  listPools,
  MAX_BURST,
  MAX_POOL_DESCRIPTION,
  MAX_POOL_NAME,
  MAX_POOL_SHARES,
  MAX_SHARE,
  MAX_USER_NAME,
  POOL_MODES,
  SHARE_BY,
  setPool,
  type PoolView,
} from '../../engine/pools/pools.js';
import { pageOfList } from './page-links.js';
import { errorResponses, pageOf, pageQuery, StringEnum } from './schemas.js';

/*
 * Pools' scheduling modes (docs/scheduling.md): priority (the default), balanced, or
 * weighted by users' (or projects') shares with optional burst limits. Anyone may read them; only admins
 * set or forget them, since they order every user's jobs.
 */

const Name = Type.String({ minLength: 1, maxLength: MAX_POOL_NAME });
const Mode = StringEnum(POOL_MODES, {
  description:
    'priority (default): priority then age; balanced: equal-priority jobs share nodes by running tasks; weighted: by users (or projects) running tasks over their share',
});
const ShareBy = StringEnum(SHARE_BY, {
  description:
    'weighted pools: whose shares, the jobs\' users (default) or their projects (OpenCue\'s subscriptions per show); jobs without a project share the project ""',
});
const Share = Type.Object(
  {
    user: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: MAX_USER_NAME,
        description: 'The user whose share it is (a pool shared by user)',
      }),
    ),
    project: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: MAX_USER_NAME,
        description: 'The project whose share it is (a pool shared by project)',
      }),
    ),
    share: Type.Number({ exclusiveMinimum: 0, maximum: MAX_SHARE }),
    burst: Type.Optional(
      Type.Union([Type.Integer({ minimum: 0, maximum: MAX_BURST }), Type.Null()], {
        description: 'The most tasks the user (project) may run in the pool at once; null: no cap',
      }),
    ),
  },
  { additionalProperties: false },
);

const Pool = Type.Object({
  name: Type.String(),
  mode: StringEnum(POOL_MODES),
  shareBy: StringEnum(SHARE_BY),
  description: Type.String(),
  shares: Type.Array(
    Type.Object({
      user: Type.Optional(Type.String()),
      project: Type.Optional(Type.String()),
      share: Type.Number(),
      burst: Type.Union([Type.Integer(), Type.Null()]),
      running: Type.Integer({
        description: 'Running tasks of the user (project) in the pool now',
      }),
    }),
  ),
  createdAt: Type.Union([Type.String(), Type.Null()]),
  lastModified: Type.Union([Type.String(), Type.Null()]),
});

const NameParams = Type.Object({ name: Name }, { additionalProperties: false });

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
const render = (v: PoolView) => ({
  ...v,
  createdAt: iso(v.createdAt),
  lastModified: iso(v.lastModified),
});

export function poolRoutes(engine: Engine): FastifyPluginAsyncTypebox {
  const { ctx } = engine;
  return async (app) => {
    app.get(
      '/pools',
      {
        schema: {
          tags: ['pools'],
          summary: 'Every pool with a scheduling setting (any other pool is priority)',
          querystring: pageQuery(100),
          response: { 200: pageOf(Pool), ...errorResponses },
        },
      },
      async (request) =>
        pageOfList(request, (await listPools(ctx)).map(render), request.query, 100),
    );

    app.get(
      '/pools/:name',
      {
        schema: {
          tags: ['pools'],
          summary: "A pool's scheduling mode and shares",
          params: NameParams,
          response: { 200: Pool, ...errorResponses },
        },
      },
      async (request) => render(await getPool(ctx, request.params.name)),
    );

    app.put(
      '/pools/:name',
      {
        schema: {
          tags: ['pools'],
          summary: "Set a pool's scheduling mode (and a weighted pool's shares, replacing them)",
          params: NameParams,
          body: Type.Object(
            {
              mode: Mode,
              shareBy: Type.Optional(ShareBy),
              description: Type.Optional(Type.String({ maxLength: MAX_POOL_DESCRIPTION })),
              shares: Type.Optional(Type.Array(Share, { maxItems: MAX_POOL_SHARES })),
            },
            { additionalProperties: false },
          ),
          response: { 200: Pool, ...errorResponses },
        },
      },
      async (request) => render(await setPool(ctx, request.params.name, request.body)),
    );

    app.delete(
      '/pools/:name',
      {
        schema: {
          tags: ['pools'],
          summary: "Forget a pool's setting: it is priority again",
          params: NameParams,
          response: { 204: Type.Null(), ...errorResponses },
        },
      },
      async (request, reply) => {
        await deletePool(ctx, request.params.name);
        return reply.status(204).send(null);
      },
    );
  };
}
