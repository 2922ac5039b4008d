import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  loginWithPassword,
  principalIfPasswordUnchanged,
  type PasswordLogin,
  type Principal,
} from '../../engine/accounts/accounts.js';
import type { Engine } from '../../engine/engine.js';
import { LOCAL_PRINCIPAL } from '../auth.js';

/*
 * Deadline's optional Web Service authentication is HTTP Basic with a user's web-service
 * password; here, a Drover user's password. The 10.1+ Python client sends the header
 * before it is asked; the older urllib2 clients only after a 401 that carries
 * WWW-Authenticate, so every 401 carries it. A password check costs a deliberate scrypt
 * (tens of milliseconds of CPU), and the client sends the password with every call, so a
 * successful login is remembered for a minute, keyed by a hash of the header (never the
 * text). A remembered login is still checked against the account on every call, with one
 * indexed read: a changed password (its stored hash differs) or a removed account is
 * refused at once, on every replica.
 */

export const REALM = 'Basic realm="Deadline"';
const REMEMBER_MS = 60_000;
const REMEMBER_MAX = 1000;

export function basicAuthenticator(engine: Engine, enabled: boolean) {
  const remembered = new Map<string, { login: PasswordLogin; until: number }>();
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const header = request.headers.authorization ?? '';
    // Without auth only a caller that sends nothing is the local admin; sent credentials
    // are checked, so a wrong password is a 401 and not a silent success.
    if (!enabled && header.trim() === '') {
      request.principal = LOCAL_PRINCIPAL;
      return;
    }
    const key = createHash('sha256').update(header).digest('hex');
    const known = remembered.get(key);
    let principal: Principal | undefined;
    if (known && known.until > Date.now()) {
      principal = await principalIfPasswordUnchanged(engine.ctx.db, known.login);
      if (!principal) remembered.delete(key);
    }
    if (!principal) {
      const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
      const decoded = match?.[1] ? Buffer.from(match[1], 'base64').toString('utf8') : '';
      const colon = decoded.indexOf(':');
      const login =
        colon > 0
          ? await loginWithPassword(
              engine.ctx.db,
              decoded.slice(0, colon),
              decoded.slice(colon + 1),
            )
          : undefined;
      if (login) {
        principal = login.principal;
        if (remembered.size >= REMEMBER_MAX) remembered.clear();
        remembered.set(key, { login, until: Date.now() + REMEMBER_MS });
      }
    }
    if (!principal) {
      return reply
        .status(401)
        .header('WWW-Authenticate', REALM)
        .type('text/plain; charset=utf-8')
        .send(
          'Error: Authentication with the Web Service failed. Send the user name and password of a Drover user (HTTP Basic).',
        );
    }
    if (principal.role === 'node') {
      return reply
        .status(403)
        .type('text/plain; charset=utf-8')
        .send(`Error: user ${principal.name} is a node account and may not use the Web Service.`);
    }
    request.principal = principal;
  };
}
