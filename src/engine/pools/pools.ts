import { invalid, notFound } from '../../domain/errors.js';
import type { Executor } from '../../store/database.js';
import {
  deletePoolRow,
  findPoolRow,
  listPoolRows,
  poolShareRows,
  replacePoolShares,
  upsertPoolRow,
  userRunning,
  type PoolRow,
} from '../../store/pools.js';
import { inTransaction, type EngineContext } from '../context.js';

/*
 * Pools' scheduling modes as operators set them (docs/scheduling.md). The claim orders and
 * caps by them (store/claim-looks.ts, migration 0037); this is their setting and reading.
 */

export const POOL_MODES = ['priority', 'balanced', 'weighted'] as const;
export type PoolMode = (typeof POOL_MODES)[number];
export const MAX_POOL_NAME = 100;
export const MAX_POOL_SHARES = 1000;
export const MAX_SHARE = 1_000_000;
export const MAX_BURST = 1_000_000;
export const MAX_POOL_DESCRIPTION = 1000;
export const MAX_USER_NAME = 200;

export interface PoolShareInput {
  user: string;
  share: number;
  /** The most tasks the user may run in the pool at once; omitted or null: no cap. */
  burst?: number | null;
}

export interface PoolInput {
  mode: PoolMode;
  description?: string;
  /** Weighted pools only; a user without one has share 1 and no burst limit. */
  shares?: PoolShareInput[];
}

export interface PoolShareView {
  user: string;
  share: number;
  burst: number | null;
  running: number;
}

export interface PoolView {
  name: string;
  mode: PoolMode;
  description: string;
  shares: PoolShareView[];
  createdAt: number | null;
  lastModified: number | null;
}

function check(name: string, input: PoolInput): void {
  if (name.length === 0 || name.length > MAX_POOL_NAME) {
    throw invalid(`a pool's name is 1 to ${MAX_POOL_NAME} characters`, { field: 'name' });
  }
  if (!POOL_MODES.includes(input.mode)) {
    throw invalid(`mode must be one of ${POOL_MODES.join(', ')}`, { field: 'mode' });
  }
  if ((input.description ?? '').length > MAX_POOL_DESCRIPTION) {
    throw invalid(`description is at most ${MAX_POOL_DESCRIPTION} characters`, {
      field: 'description',
    });
  }
  const shares = input.shares ?? [];
  if (shares.length > 0 && input.mode !== 'weighted') {
    throw invalid(`shares apply to weighted pools only; set mode "weighted" or leave them out`, {
      field: 'shares',
    });
  }
  if (shares.length > MAX_POOL_SHARES) {
    throw invalid(`at most ${MAX_POOL_SHARES} shares per pool`, { field: 'shares' });
  }
  const seen = new Set<string>();
  for (const s of shares) {
    if (s.user.length === 0 || s.user.length > MAX_USER_NAME) {
      throw invalid(`a share's user is 1 to ${MAX_USER_NAME} characters`, { field: 'shares' });
    }
    if (seen.has(s.user)) throw invalid(`user "${s.user}" has two shares`, { field: 'shares' });
    seen.add(s.user);
    if (!Number.isFinite(s.share) || s.share <= 0 || s.share > MAX_SHARE) {
      throw invalid(`user "${s.user}": share must be above 0 and at most ${MAX_SHARE}`, {
        field: 'shares',
      });
    }
    const b = s.burst ?? null;
    if (b !== null && (!Number.isInteger(b) || b < 0 || b > MAX_BURST)) {
      throw invalid(`user "${s.user}": burst must be a whole number from 0 to ${MAX_BURST}`, {
        field: 'shares',
      });
    }
  }
}

/** Sets a pool's mode (and a weighted pool's shares, replacing the old ones). */
export async function setPool(
  ctx: EngineContext,
  name: string,
  input: PoolInput,
): Promise<PoolView> {
  check(name, input);
  return inTransaction(ctx, async (tx, emit) => {
    // Waiting nodes look again at once: a burst limit raised or lifted frees work.
    emit({ type: 'pool.changed', name });
    await upsertPoolRow(
      tx,
      {
        name,
        mode: input.mode,
        description: input.description ?? '',
        last_modified: ctx.clock(),
      },
      ctx.clock(),
    );
    await replacePoolShares(
      tx,
      name,
      (input.shares ?? []).map((s) => ({
        user_name: s.user,
        share: s.share,
        burst: s.burst ?? null,
      })),
    );
    return view(tx, (await findPoolRow(tx, name))!);
  });
}

/** A pool's settings; a pool without a row is `priority`. */
export async function getPool(ctx: EngineContext, name: string): Promise<PoolView> {
  const row = await findPoolRow(ctx.db, name);
  if (!row) {
    return {
      name,
      mode: 'priority',
      description: '',
      shares: [],
      createdAt: null,
      lastModified: null,
    };
  }
  return view(ctx.db, row);
}

export async function listPools(ctx: EngineContext): Promise<PoolView[]> {
  const rows = await listPoolRows(ctx.db);
  return Promise.all(rows.map((r) => view(ctx.db, r)));
}

/** Forgets a pool's settings: it is `priority` again. */
export async function deletePool(ctx: EngineContext, name: string): Promise<void> {
  const gone = await inTransaction(ctx, async (tx, emit) => {
    emit({ type: 'pool.changed', name });
    return deletePoolRow(tx, name);
  });
  if (!gone) throw notFound('pool', name);
}

async function view(db: Executor, row: PoolRow): Promise<PoolView> {
  const shares = await poolShareRows(db, row.name);
  return {
    name: row.name,
    mode: row.mode,
    description: row.description,
    shares: await Promise.all(
      shares.map(async (s) => ({
        user: s.user_name,
        share: Number(s.share),
        burst: s.burst === null ? null : Number(s.burst),
        running: await userRunning(db, row.name, s.user_name),
      })),
    ),
    createdAt: Number(row.created_at),
    lastModified: Number(row.last_modified),
  };
}
