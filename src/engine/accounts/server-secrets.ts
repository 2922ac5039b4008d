import { randomBytes } from 'node:crypto';
import { secretOrStore } from '../../store/server-secrets.js';
import type { EngineContext } from '../context.js';

/**
 * A random secret of that name, made once and shared by every replica through the
 * database (UFDL's token signing key, for one).
 */
export async function serverSecret(ctx: EngineContext, name: string): Promise<Buffer> {
  const value = await secretOrStore(
    ctx.db,
    name,
    randomBytes(32).toString('base64url'),
    ctx.clock(),
  );
  return Buffer.from(value, 'base64url');
}
