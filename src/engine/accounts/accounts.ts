import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { DroverError, invalid } from '../../domain/errors.js';
import { ROLES, type Role } from '../../domain/roles.js';
import type { Executor } from '../../store/database.js';
import type { UserRow } from '../../store/schema.js';
import {
  findUser,
  findUserByName,
  deleteToken,
  findUserByTokenHash,
  insertToken,
  insertUser,
  listTokens,
  touchToken,
  updateUser,
  type TokenListRow,
} from '../../store/users.js';
import type { EngineContext } from '../context.js';

export { ROLES, type Role };

export interface Principal {
  id: number;
  name: string;
  role: Role;
}

const scryptAsync = promisify(scrypt) as (p: string, s: Buffer, n: number) => Promise<Buffer>;

async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, 32);
  return `scrypt$${salt.toString('base64')}$${key.toString('base64')}`;
}

let passwordChecks = 0;

/** Password hashes computed by this process: /metrics shows it, so a login cache that stops working shows. */
export const passwordChecksSoFar = (): number => passwordChecks;

async function passwordMatches(password: string, stored: string): Promise<boolean> {
  const [scheme, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !key) return false;
  passwordChecks++;
  const expected = Buffer.from(key, 'base64');
  const actual = await scryptAsync(password, Buffer.from(salt, 'base64'), expected.length);
  return timingSafeEqual(actual, expected);
}

/** Tokens are stored only as their SHA-256; the token itself is shown once, at creation. */
const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

export async function addUser(
  ctx: EngineContext,
  name: string,
  role: Role,
  password?: string,
): Promise<Principal> {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/.test(name)) {
    throw invalid(`user name "${name}" must be 1-64 letters, digits, '.', '_', '@' or '-'`);
  }
  if (!ROLES.includes(role)) throw invalid(`role must be one of ${ROLES.join(', ')}`);
  if (await findUserByName(ctx.db, name)) throw new DroverError('CONFLICT', `user ${name} exists`);
  const id = await insertUser(ctx.db, {
    name,
    role,
    password_hash: password ? await hashPassword(password) : null,
    created_at: ctx.clock(),
  });
  return { id, name, role };
}

export async function setPassword(
  ctx: EngineContext,
  name: string,
  password: string,
): Promise<void> {
  const user = await findUserByName(ctx.db, name);
  if (!user) throw new DroverError('NOT_FOUND', `user ${name} does not exist`);
  await updateUser(ctx.db, user.id, { password_hash: await hashPassword(password) });
}

export async function createToken(
  ctx: EngineContext,
  userName: string,
  tokenName = 'default',
  options: { expiresInMs?: number } = {},
): Promise<string> {
  const user = await findUserByName(ctx.db, userName);
  if (!user) throw new DroverError('NOT_FOUND', `user ${userName} does not exist; add it first`);
  const { expiresInMs } = options;
  if (expiresInMs !== undefined && !(Number.isSafeInteger(expiresInMs) && expiresInMs > 0)) {
    throw invalid('a token must expire a positive whole number of milliseconds from now');
  }
  const token = `drv_${randomBytes(24).toString('base64url')}`;
  const now = ctx.clock();
  const expiresAt = expiresInMs === undefined ? null : now + expiresInMs;
  await insertToken(ctx.db, user.id, tokenName, hashToken(token), now, expiresAt);
  return token;
}

/** Last-used times are written at most this often per token: one write, not one per call. */
const TOUCH_EVERY_MS = 60_000;

/**
 * The account a token belongs to, read from the database on every call (no cache), so a
 * revoked token stops working at once on every replica. Expired tokens are refused.
 */
export async function principalForToken(
  ctx: EngineContext,
  token: string,
): Promise<Principal | undefined> {
  const user = await findUserByTokenHash(ctx.db, hashToken(token));
  if (!user) return undefined;
  const now = ctx.clock();
  if (user.expires_at !== null && user.expires_at <= now) return undefined;
  if (user.last_used_at === null || now - user.last_used_at >= TOUCH_EVERY_MS) {
    await touchToken(ctx.db, user.token_id, now);
  }
  return toPrincipal(user);
}

export async function tokensOf(ctx: EngineContext, userName?: string): Promise<TokenListRow[]> {
  return listTokens(ctx.db, userName);
}

export async function revokeToken(ctx: EngineContext, id: number): Promise<void> {
  const found = (await listTokens(ctx.db)).some((t) => t.id === id);
  if (!found)
    throw new DroverError('NOT_FOUND', `token ${id} does not exist (see drover token list)`);
  await deleteToken(ctx.db, id);
}

/** For the dialects that log in with a password (Deadline Basic auth, UFDL token obtain). */
export async function principalForPassword(
  db: Executor,
  name: string,
  password: string,
): Promise<Principal | undefined> {
  return (await loginWithPassword(db, name, password))?.principal;
}

/** A verified password login, with the hash it was verified against (for a login cache). */
export interface PasswordLogin {
  principal: Principal;
  passwordHash: string;
}

export async function loginWithPassword(
  db: Executor,
  name: string,
  password: string,
): Promise<PasswordLogin | undefined> {
  const user = await findUserByName(db, name);
  if (!user?.password_hash) return undefined;
  if (!(await passwordMatches(password, user.password_hash))) return undefined;
  return { principal: toPrincipal(user), passwordHash: user.password_hash };
}

/**
 * The account of a remembered login, read afresh: undefined once its password was changed
 * (the stored hash differs) or the account is gone. One indexed read instead of a scrypt.
 */
export async function principalIfPasswordUnchanged(
  db: Executor,
  login: PasswordLogin,
): Promise<Principal | undefined> {
  const user = await findUser(db, login.principal.id);
  if (!user || user.password_hash !== login.passwordHash) return undefined;
  return toPrincipal(user);
}

function toPrincipal(user: UserRow): Principal {
  return { id: user.id, name: user.name, role: user.role };
}
