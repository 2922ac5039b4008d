import type { FastifyPluginAsync } from 'fastify';
import { createToken, principalForPassword } from '../../engine/accounts/accounts.js';
import type { Engine } from '../../engine/engine.js';

/*
 * Scale's login: `POST /api-token-auth/` with a user name and password (DRF's
 * obtain_auth_token, JSON or a form), answered with `{"token": …}`, which the client then
 * sends as `Authorization: Token <token>` (src/api/auth.ts takes it like a Bearer token).
 * DRF hands every login the user's one stored token; Drover stores only hashes and cannot
 * show a token twice, so each login gets a new token labelled `scale login` that expires
 * in 30 days (listed and revoked like any other: `drover token list`).
 */

const TOKEN_LIFETIME_MS = 30 * 86_400_000;
const TOKEN_NAME = 'scale login';

export function scaleTokenAuth(engine: Engine): FastifyPluginAsync {
  return async (app) => {
    app.removeContentTypeParser(['application/json', 'text/plain']);
    const parse = (text: string, json: boolean): Record<string, unknown> => {
      if (text.trim() === '') return {};
      return json
        ? (JSON.parse(text) as Record<string, unknown>)
        : Object.fromEntries(new URLSearchParams(text));
    };
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
      try {
        done(null, parse(String(body), true));
      } catch {
        done(null, undefined);
      }
    });
    app.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string' },
      (_request, body, done) => done(null, parse(String(body), false)),
    );

    app.post('/', async (request, reply) => {
      const body = request.body;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        return reply.status(400).send({ detail: 'JSON parse error - the body is not an object' });
      }
      const fields = body as Record<string, unknown>;
      const missing: Record<string, string[]> = {};
      for (const name of ['username', 'password']) {
        const value = fields[name];
        if (typeof value !== 'string' || value === '') missing[name] = ['This field is required.'];
      }
      if (Object.keys(missing).length > 0) return reply.status(400).send(missing);
      const username = fields.username as string;
      const principal = await principalForPassword(
        engine.ctx.db,
        username,
        fields.password as string,
      );
      if (!principal) {
        return reply
          .status(400)
          .send({ non_field_errors: ['Unable to log in with provided credentials.'] });
      }
      const token = await createToken(engine.ctx, username, TOKEN_NAME, {
        expiresInMs: TOKEN_LIFETIME_MS,
      });
      return { token };
    });
  };
}
