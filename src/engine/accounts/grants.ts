import { DroverError, invalid } from '../../domain/errors.js';
import {
  deleteGrant,
  findGrant,
  grantsOfUser,
  insertGrant,
  listGrants,
  type GrantListRow,
} from '../../store/grants.js';
import { findUserByName } from '../../store/users.js';
import type { EngineContext } from '../context.js';

/*
 * Grants let a user change jobs besides their own: every job in a pool (a pool manager) or
 * every job (a wrangler). Only users hold them: an admin needs none, and a node account
 * never changes jobs. src/engine/accounts/permissions.ts reads them.
 */

/** A pool's manager, or a wrangler (every job). */
export type GrantScope = { pool: string } | { wrangler: true };

export interface Grant {
  id: number;
  user: string;
  kind: 'pool' | 'wrangler';
  pool: string | null;
  createdAt: number;
  createdBy: string;
}

const toGrant = (row: GrantListRow): Grant => ({
  id: row.id,
  user: row.user_name,
  kind: row.kind,
  pool: row.kind === 'pool' ? row.pool : null,
  createdAt: row.created_at,
  createdBy: row.created_by,
});

function scopeOf(scope: GrantScope): { kind: 'pool' | 'wrangler'; pool: string } {
  if ('wrangler' in scope) return { kind: 'wrangler', pool: '' };
  const pool = scope.pool.trim();
  if (pool === '') throw invalid('name the pool to grant, e.g. --pool comp');
  return { kind: 'pool', pool };
}

async function grantee(ctx: EngineContext, userName: string) {
  const user = await findUserByName(ctx.db, userName);
  if (!user) throw new DroverError('NOT_FOUND', `user ${userName} does not exist; add it first`);
  return user;
}

/** Grants `scope` to a user (granting what they hold already changes nothing). */
export async function grant(
  ctx: EngineContext,
  userName: string,
  scope: GrantScope,
  grantedBy: string,
): Promise<Grant> {
  const user = await grantee(ctx, userName);
  if (user.role !== 'user') {
    throw invalid(
      user.role === 'admin'
        ? `${userName} is an admin and may change every job already`
        : `${userName} is a node account; node accounts never change jobs`,
    );
  }
  const { kind, pool } = scopeOf(scope);
  const id = await insertGrant(ctx.db, {
    user_id: user.id,
    kind,
    pool,
    created_at: ctx.clock(),
    created_by: grantedBy,
  });
  return toGrant((await findGrant(ctx.db, id))!);
}

export async function grantsOf(ctx: EngineContext, userName?: string): Promise<Grant[]> {
  return (await listGrants(ctx.db, userName)).map(toGrant);
}

export async function revokeGrantById(ctx: EngineContext, id: number): Promise<Grant> {
  const row = await findGrant(ctx.db, id);
  if (!row) throw new DroverError('NOT_FOUND', `grant ${id} does not exist (see GET /grants)`);
  await deleteGrant(ctx.db, id);
  return toGrant(row);
}

/** Revokes the grant of `scope` that a user holds; 404 if they hold none. */
export async function revokeGrant(
  ctx: EngineContext,
  userName: string,
  scope: GrantScope,
): Promise<Grant> {
  const user = await grantee(ctx, userName);
  const { kind, pool } = scopeOf(scope);
  const held = (await grantsOfUser(ctx.db, user.id)).find(
    (g) => g.kind === kind && g.pool === pool,
  );
  if (!held) {
    const what = kind === 'wrangler' ? 'wrangler' : `manager of pool ${pool}`;
    throw new DroverError('NOT_FOUND', `${userName} is not a ${what}`);
  }
  return revokeGrantById(ctx, held.id);
}

/** What a user's grants let them change: every job, or the jobs of these pools. */
export interface Reach {
  everyJob: boolean;
  pools: Set<string>;
}

export async function reachOf(ctx: EngineContext, userId: number): Promise<Reach> {
  const rows = await grantsOfUser(ctx.db, userId);
  return {
    everyJob: rows.some((g) => g.kind === 'wrangler'),
    pools: new Set(rows.filter((g) => g.kind === 'pool').map((g) => g.pool)),
  };
}
