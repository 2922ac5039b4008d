import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/*
 * HS256 JSON Web Tokens with the claims UFDL's server (djangorestframework-simplejwt,
 * customised) puts in them: `upk` the user's id, `jtt` "access" or "refresh", `exp`, `iat`,
 * `jti`. Its clients treat tokens as opaque strings; the claims matter to anyone who decodes.
 */

export type TokenType = 'access' | 'refresh';

export interface TokenClaims {
  upk: number;
  jtt: TokenType;
  exp: number;
  iat: number;
  jti: string;
}

const b64 = (data: Buffer | string): string => Buffer.from(data).toString('base64url');
const HEADER = b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));

export function signToken(
  key: Buffer,
  userId: number,
  type: TokenType,
  nowMs: number,
  lifetimeS: number,
): string {
  const iat = Math.floor(nowMs / 1000);
  const claims: TokenClaims = {
    jtt: type,
    exp: iat + lifetimeS,
    iat,
    jti: randomBytes(16).toString('hex'),
    upk: userId,
  };
  const body = `${HEADER}.${b64(JSON.stringify(claims))}`;
  return `${body}.${b64(createHmac('sha256', key).update(body).digest())}`;
}

/** The claims of a well-signed, unexpired token of that type; undefined for anything else. */
export function verifyToken(
  key: Buffer,
  token: string,
  type: TokenType | undefined,
  nowMs: number,
): TokenClaims | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const [header, payload, signature] = parts as [string, string, string];
  const expected = createHmac('sha256', key).update(`${header}.${payload}`).digest();
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  try {
    const head = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { alg?: unknown };
    if (head.alg !== 'HS256') return undefined;
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as TokenClaims;
    if (typeof claims.upk !== 'number' || typeof claims.exp !== 'number') return undefined;
    if (claims.exp * 1000 <= nowMs) return undefined;
    if (type !== undefined && claims.jtt !== type) return undefined;
    return claims;
  } catch {
    return undefined;
  }
}

export const looksLikeJwt = (token: string): boolean => token.split('.').length === 3;
