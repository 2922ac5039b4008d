import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ROLES } from '../../engine/accounts/accounts.js';
import type { Engine } from '../../engine/engine.js';
import { errorResponses } from './schemas.js';

/*
 * GET /whoami: who the caller's token says it is, so that a client (the web UI) offers only
 * what the caller's role may do. The server still checks every request itself.
 */
export function whoamiRoutes(_engine: Engine): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/whoami',
      {
        schema: {
          tags: ['tokens'],
          summary: 'The user and role of the caller (with auth off: the local admin)',
          querystring: Type.Object({}, { additionalProperties: false }),
          response: {
            200: Type.Object({
              name: Type.String(),
              role: Type.Union(ROLES.map((r) => Type.Literal(r))),
            }),
            ...errorResponses,
          },
        },
      },
      async (request) => ({ name: request.principal!.name, role: request.principal!.role }),
    );
  };
}
