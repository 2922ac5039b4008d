import type { FastifyReply, FastifyRequest } from 'fastify';
import { DroverError } from '../domain/errors.js';
import { principalForToken, type Principal, type Role } from '../engine/accounts.js';
import type { Engine } from '../engine/engine.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | undefined;
  }
}

/** With auth off (the localhost default) every caller acts as this admin. */
export const LOCAL_PRINCIPAL: Principal = { id: 0, name: 'local', role: 'admin' };

/** What each role may do: nodes only the worker protocol, users everything but admin. */
const ALLOWED: Record<Role, Role[]> = {
  admin: ['admin'],
  user: ['admin', 'user'],
  node: ['admin', 'user', 'node'],
};

export function authenticator(engine: Engine, enabled: boolean) {
  return async (request: FastifyRequest): Promise<void> => {
    if (!enabled) {
      request.principal = LOCAL_PRINCIPAL;
      return;
    }
    const header = request.headers.authorization;
    const match = header?.match(/^Bearer\s+(\S+)$/i);
    request.principal = match?.[1] ? await principalForToken(engine.ctx.db, match[1]) : undefined;
  };
}

/** A preHandler that admits principals whose role may act at `least`. */
export function requireRole(least: Role) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const principal = request.principal;
    if (!principal) {
      void reply.header('WWW-Authenticate', 'Bearer realm="drover"');
      throw new DroverError(
        'UNAUTHENTICATED',
        'send "Authorization: Bearer <token>"; create a token with `drover token create --user NAME`',
      );
    }
    if (!ALLOWED[least].includes(principal.role)) {
      throw new DroverError(
        'FORBIDDEN',
        `role ${principal.role} may not do this; it needs ${least}`,
      );
    }
  };
}
