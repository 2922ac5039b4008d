import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import {
  principalForPassword,
  principalForToken,
  type Principal,
} from '../../engine/accounts/accounts.js';
import { serverSecret } from '../../engine/accounts/server-secrets.js';
import type { Engine } from '../../engine/engine.js';
import { findUser } from '../../store/users.js';
import { LOCAL_PRINCIPAL } from '../auth.js';
import { notAuthenticated, permissionDenied, tokenNotValid, UfdlError } from './errors.js';
import { looksLikeJwt, signToken, verifyToken } from './jwt.js';

/*
 * UFDL's logins: POST /v1/auth/obtain trades a user name and password for a pair of JSON
 * Web Tokens, refresh trades the refresh token for a new access token, verify checks one.
 * API calls carry `Authorization: Bearer <access>`. A Drover API token is accepted there too.
 * UFDL's staff are Drover's admins; any other Drover user is an ordinary UFDL user.
 */

export const ACCESS_LIFETIME_S = 5 * 60;
export const REFRESH_LIFETIME_S = 8 * 60 * 60;
const SECRET_NAME = 'ufdl-jwt-hs256';

export function tokenKeys(engine: Engine) {
  let key: Promise<Buffer> | undefined;
  return (): Promise<Buffer> => {
    key ??= serverSecret(engine.ctx, SECRET_NAME).catch((error: unknown) => {
      key = undefined;
      throw error;
    });
    return key;
  };
}

async function principalOfUser(engine: Engine, id: number): Promise<Principal | undefined> {
  const user = await findUser(engine.ctx.db, id);
  return user && { id: user.id, name: user.name, role: user.role };
}

/**
 * Sets request.principal from the Bearer header. As in Django REST framework, a header that
 * is present but not valid is a 401 at once, with auth off too (a client that refreshes on
 * 401 must see it); no header leaves the caller anonymous, or the local admin with auth off.
 */
export function ufdlAuthenticator(engine: Engine, enabled: boolean, key: () => Promise<Buffer>) {
  return async (request: FastifyRequest): Promise<void> => {
    request.principal = enabled ? undefined : LOCAL_PRINCIPAL;
    const token = bearerToken(request);
    if (token === undefined) return;
    if (looksLikeJwt(token)) {
      const claims = verifyToken(await key(), token, 'access', engine.ctx.clock());
      if (!claims) throw tokenNotValid();
      const principal = await principalOfUser(engine, claims.upk);
      if (!principal) throw new UfdlError(401, 'User not found', { code: 'user_not_found' });
      request.principal = principal;
      return;
    }
    const principal = await principalForToken(engine.ctx, token);
    if (!principal) throw tokenNotValid();
    request.principal = principal;
  };
}

/** The token of the request's Bearer header (or a socket's `?token=`); undefined for none. */
function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization ?? socketToken(request);
  if (header === undefined || header.trim() === '') return undefined;
  // Like simplejwt, a header of another scheme is not ours: the caller stays as it was.
  return /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
}

/**
 * Whether an open socket's caller is still signed in: an API token not revoked or expired
 * since, a JWT's user not removed. A JWT's own expiry is not checked again: UFDL's clients
 * keep a job's socket open for as long as they watch it, past their 5-minute access token.
 */
export async function stillSignedIn(engine: Engine, request: FastifyRequest): Promise<boolean> {
  const token = bearerToken(request);
  if (token === undefined || request.principal === undefined) return true;
  if (looksLikeJwt(token))
    return (await findUser(engine.ctx.db, request.principal.id)) !== undefined;
  return (await principalForToken(engine.ctx, token))?.id === request.principal.id;
}

/**
 * Browsers cannot send headers with a WebSocket handshake, so a socket may carry its token
 * as `?token=` instead (UFDL's own socket checks nothing; Drover's does, before accepting).
 */
function socketToken(request: FastifyRequest): string | undefined {
  if (request.headers.upgrade === undefined) return undefined;
  const token = (request.query as { token?: unknown } | undefined)?.token;
  return typeof token === 'string' && token !== '' ? `Bearer ${token}` : undefined;
}

/** DRF's rule: a denied anonymous caller is 401 (so clients log in), a denied user 403. */
export function allow(request: FastifyRequest, allowed: boolean): void {
  if (allowed) return;
  throw request.principal ? permissionDenied() : notAuthenticated();
}

export const isAuthenticated = (request: FastifyRequest): boolean =>
  request.principal !== undefined;
export const isAdmin = (request: FastifyRequest): boolean => request.principal?.role === 'admin';

export function authRoutes(engine: Engine, key: () => Promise<Buffer>): FastifyPluginAsyncTypebox {
  const { ctx } = engine;
  const pair = async (userId: number) => ({
    refresh: signToken(await key(), userId, 'refresh', ctx.clock(), REFRESH_LIFETIME_S),
    access: signToken(await key(), userId, 'access', ctx.clock(), ACCESS_LIFETIME_S),
  });
  const required = (body: unknown, field: string): string => {
    const value = (body as Record<string, unknown> | undefined)?.[field];
    if (typeof value !== 'string' || value === '') {
      throw new UfdlError(400, 'This field is required.', { [field]: ['This field is required.'] });
    }
    return value;
  };
  return async (app) => {
    for (const path of ['/auth/obtain', '/auth/obtain/']) {
      app.post(path, async (request) => {
        const username = required(request.body, 'username');
        const password = required(request.body, 'password');
        // Checked with auth off too: a client must be able to tell a typo from success.
        const principal = await principalForPassword(ctx.db, username, password);
        if (principal) return pair(principal.id);
        throw new UfdlError(401, 'No active account found with the given credentials', {
          code: 'no_active_account',
        });
      });
    }
    for (const path of ['/auth/refresh', '/auth/refresh/']) {
      app.post(path, async (request) => {
        const refresh = required(request.body, 'refresh');
        const claims = verifyToken(await key(), refresh, 'refresh', ctx.clock());
        if (!claims || !(await principalOfUser(engine, claims.upk))) {
          throw new UfdlError(401, 'Token is invalid or expired', { code: 'token_not_valid' });
        }
        return {
          access: signToken(await key(), claims.upk, 'access', ctx.clock(), ACCESS_LIFETIME_S),
        };
      });
    }
    for (const path of ['/auth/verify', '/auth/verify/']) {
      app.post(path, async (request) => {
        const token = required(request.body, 'token');
        if (!verifyToken(await key(), token, undefined, ctx.clock())) {
          throw new UfdlError(401, 'Token is invalid or expired', { code: 'token_not_valid' });
        }
        return {};
      });
    }
  };
}
