import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { parseSpan } from '../../domain/durations.js';
import { createToken, revokeToken, tokensOf } from '../../engine/accounts/accounts.js';
import type { Engine } from '../../engine/engine.js';
import { pageOfList } from './page-links.js';
import { iso } from './representations.js';
import { errorResponses, IdParams, pageOf, pageQuery, Time } from './schemas.js';

/* API tokens, for admins (the permission table says so): list, create, revoke. */

const TokenInfo = Type.Object({
  id: Type.Integer(),
  user: Type.String(),
  name: Type.String(),
  createdAt: Time,
  lastUsedAt: Time,
  expiresAt: Time,
});

export function tokenRoutes(engine: Engine): FastifyPluginAsyncTypebox {
  const { ctx } = engine;
  return async (app) => {
    app.get(
      '/tokens',
      {
        schema: {
          tags: ['tokens'],
          summary: 'Every API token (never the token itself: only its hash is stored)',
          querystring: Type.Intersect([
            Type.Object({ user: Type.Optional(Type.String({ minLength: 1 })) }),
            pageQuery(100),
          ]),
          response: { 200: pageOf(TokenInfo), ...errorResponses },
        },
      },
      async (request) => {
        const rows = await tokensOf(ctx, request.query.user);
        return pageOfList(
          request,
          rows.map((r) => ({
            id: r.id,
            user: r.user_name,
            name: r.name,
            createdAt: iso(r.created_at),
            lastUsedAt: iso(r.last_used_at),
            expiresAt: iso(r.expires_at),
          })),
          request.query,
          100,
        );
      },
    );

    app.post(
      '/tokens',
      {
        schema: {
          tags: ['tokens'],
          summary: 'Create a token for a user; the answer is the only time it is shown',
          body: Type.Object(
            {
              user: Type.String({ minLength: 1 }),
              name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
              expires: Type.Optional(
                Type.String({ description: 'Refuse the token after this long: 30d, 12h, 90m' }),
              ),
            },
            { additionalProperties: false },
          ),
          response: { 201: Type.Object({ token: Type.String() }), ...errorResponses },
        },
      },
      async (request, reply) => {
        const { user, name, expires } = request.body;
        const options = expires === undefined ? {} : { expiresInMs: parseSpan(expires) };
        const token = await createToken(ctx, user, name ?? 'default', options);
        return reply.status(201).send({ token });
      },
    );

    app.delete(
      '/tokens/:id',
      {
        schema: {
          tags: ['tokens'],
          summary: 'Revoke a token: refused at once, on every replica',
          params: IdParams,
          response: { 204: Type.Null(), ...errorResponses },
        },
      },
      async (request, reply) => {
        await revokeToken(ctx, request.params.id);
        return reply.status(204).send(null);
      },
    );
  };
}
