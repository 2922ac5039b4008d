import type { FastifyRequest, onRequestHookHandler } from 'fastify';
import { DroverError } from '../domain/errors.js';
import { principalForToken, type Principal } from '../engine/accounts/accounts.js';
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

/** The token of a Bearer (or Token) header; undefined for none or another scheme. */
export function tokenOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  return header ? /^(?:Bearer|Token)\s+(\S+)\s*$/i.exec(header)?.[1] : undefined;
}

/**
 * Whether a long-lived request (an event stream) may go on: its token still names the same
 * account, not revoked, expired or removed since the request began. Without a token (auth
 * off, the local admin) nothing can be revoked.
 */
export async function stillSignedIn(engine: Engine, request: FastifyRequest): Promise<boolean> {
  const token = tokenOf(request);
  if (token === undefined) return true;
  const principal = await principalForToken(engine.ctx, token);
  return principal !== undefined && principal.id === request.principal?.id;
}

/**
 * Sets request.principal from the Bearer (or Token) header. Credentials that are sent are always
 * checked: a wrong token is 401 even with auth off, so a client cannot mistake a typo for
 * success. Without credentials the caller is anonymous, or the local admin with auth off.
 */
export function authenticator(engine: Engine, enabled: boolean): onRequestHookHandler {
  // A hook with a callback, not async: every request runs it, and one without credentials
  // is decided without a read (see input-guards.ts).
  return (request, _reply, done) => {
    if (readsOwnCredentials(request.url)) return done();
    const header = request.headers.authorization;
    if (header === undefined || header.trim() === '') {
      request.principal = enabled ? undefined : LOCAL_PRINCIPAL;
      return done();
    }
    // `Token` is how Scale's clients (DRF's TokenAuthentication) send the same tokens.
    const token = tokenOf(request);
    if (!token) return done(invalidToken());
    principalForToken(engine.ctx, token).then((principal) => {
      if (!principal) return done(invalidToken());
      request.principal = principal;
      done();
    }, done);
  };
}
