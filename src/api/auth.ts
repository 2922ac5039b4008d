import type { FastifyRequest } from 'fastify';
import { DroverError } from '../domain/errors.js';
import { principalForToken, type Principal } from '../engine/accounts.js';
import type { Engine } from '../engine/engine.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | undefined;
  }
}

/** With auth off (the localhost default) a caller without credentials acts as this admin. */
export const LOCAL_PRINCIPAL: Principal = { id: 0, name: 'local', role: 'admin' };

/**
 * UFDL's scope (/v1) reads its own credentials (JWTs as well as tokens): ufdl/auth.ts.
 * Scale's login (/api-token-auth/) takes its credentials from the body alone.
 */
const readsOwnCredentials = (url: string): boolean =>
  url === '/v1' || /^\/v1[/?]/.test(url) || /^\/api-token-auth(\/|\?|$)/.test(url);

export const invalidToken = (): DroverError =>
  new DroverError(
    'UNAUTHENTICATED',
    'send "Authorization: Bearer <token>" with a valid token: this one is mistyped, expired or revoked; create one with `drover token create --user NAME`',
  );

/**
 * Sets request.principal from the Bearer (or Token) header. Credentials that are sent are always
 * checked: a wrong token is 401 even with auth off, so a client cannot mistake a typo for
 * success. Without credentials the caller is anonymous, or the local admin with auth off.
 */
export function authenticator(engine: Engine, enabled: boolean) {
  return async (request: FastifyRequest): Promise<void> => {
    if (readsOwnCredentials(request.url)) return;
    const header = request.headers.authorization;
    if (header === undefined || header.trim() === '') {
      request.principal = enabled ? undefined : LOCAL_PRINCIPAL;
      return;
    }
    // `Token` is how Scale's clients (DRF's TokenAuthentication) send the same tokens.
    const match = /^(?:Bearer|Token)\s+(\S+)\s*$/i.exec(header);
    const principal = match?.[1] ? await principalForToken(engine.ctx, match[1]) : undefined;
    if (!principal) throw invalidToken();
    request.principal = principal;
  };
}
