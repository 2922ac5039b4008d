import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { grant, grantsOf, revokeGrantById, type Grant } from '../../engine/accounts/grants.js';
import type { Engine } from '../../engine/engine.js';
import { pageOfList } from './page-links.js';
import { iso } from './representations.js';
import { errorResponses, IdParams, Nullable, pageOf, pageQuery } from './schemas.js';

/* Grants, for admins (the permission table says so): list, grant, revoke. */

const GrantInfo = Type.Object({
  id: Type.Integer(),
  user: Type.String(),
  kind: Type.Union([Type.Literal('pool'), Type.Literal('wrangler')], {
    description: 'pool: may change every job of `pool`; wrangler: may change every job',
  }),
  pool: Nullable(Type.String()),
  createdAt: Type.String({ format: 'date-time' }),
  createdBy: Type.String(),
});

const render = (g: Grant) => ({
  id: g.id,
  user: g.user,
  kind: g.kind,
  pool: g.pool,
  createdAt: iso(g.createdAt)!,
  createdBy: g.createdBy,
});

export function grantRoutes(engine: Engine): FastifyPluginAsyncTypebox {
  const { ctx } = engine;
  return async (app) => {
    app.get(
      '/grants',
      {
        schema: {
          tags: ['grants'],
          summary: 'Every grant: users who manage a pool, or every job (wranglers)',
          querystring: Type.Intersect([
            Type.Object({ user: Type.Optional(Type.String({ minLength: 1 })) }),
            pageQuery(100),
          ]),
          response: { 200: pageOf(GrantInfo), ...errorResponses },
        },
      },
      async (request) =>
        pageOfList(
          request,
          (await grantsOf(ctx, request.query.user)).map(render),
          request.query,
          100,
        ),
    );

    app.post(
      '/grants',
      {
        schema: {
          tags: ['grants'],
          summary:
            'Make a user the manager of a pool ({"user","pool"}) or a wrangler ({"user","wrangler":true})',
          body: Type.Union([
            Type.Object(
              { user: Type.String({ minLength: 1 }), pool: Type.String({ minLength: 1 }) },
              { additionalProperties: false },
            ),
            Type.Object(
              { user: Type.String({ minLength: 1 }), wrangler: Type.Literal(true) },
              { additionalProperties: false },
            ),
          ]),
          response: { 201: GrantInfo, ...errorResponses },
        },
      },
      async (request, reply) => {
        const body = request.body;
        const scope = 'pool' in body ? { pool: body.pool } : { wrangler: true as const };
        const made = await grant(ctx, body.user, scope, request.principal?.name ?? 'local');
        return reply.status(201).send(render(made));
      },
    );

    app.delete(
      '/grants/:id',
      {
        schema: {
          tags: ['grants'],
          summary: 'Revoke a grant: refused at once, on every replica',
          params: IdParams,
          response: { 204: Type.Null(), ...errorResponses },
        },
      },
      async (request, reply) => {
        await revokeGrantById(ctx, request.params.id);
        return reply.status(204).send(null);
      },
    );
  };
}
