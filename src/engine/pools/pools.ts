import { invalid, notFound } from '../../domain/errors.js';
import type { Executor } from '../../store/database.js';
import {
  deletePoolRow,
  findPoolRow,
  listPoolRows,
  poolShareRows,
  replacePoolShares,
  holderRunning,
  upsertPoolRow,
  type PoolRow,
  type ShareBy,
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
export const SHARE_BY = ['user', 'project'] as const;

/** A share of a weighted pool: a user's, or a project's in a pool shared by project. */
export interface PoolShareInput {
  /** Exactly one of user and project, as the pool's shareBy says. */
  user?: string;
  project?: string;
  share: number;
  /** The most tasks the user may run in the pool at once; omitted or null: no cap. */
  burst?: number | null;
}

export interface PoolInput {
  mode: PoolMode;
  /**
   * Whose running tasks a weighted pool weighs: its jobs' users (default) or their projects
   * (OpenCue's subscriptions per show). Jobs without a project share the project "".
   */
  shareBy?: ShareBy;
  description?: string;
  /** Weighted pools only; a user (project) without one has share 1 and no burst limit. */
  shares?: PoolShareInput[];
}

export interface PoolShareView {
  /** One of user and project, by the pool's shareBy. */
  user?: string;
  project?: string;
  share: number;
  burst: number | null;
  running: number;
}

export interface PoolView {
  name: string;
  mode: PoolMode;
  shareBy: ShareBy;
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
  const by = input.shareBy ?? 'user';
  if (!SHARE_BY.includes(by)) {
    throw invalid(`shareBy must be one of ${SHARE_BY.join(', ')}`, { field: 'shareBy' });
  }
  if (by !== 'user' && input.mode !== 'weighted') {
    throw invalid(`shareBy applies to weighted pools only; set mode "weighted" or leave it out`, {
      field: 'shareBy',
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
    const name = holderOf(s, by);
    if (name.length === 0 || name.length > MAX_USER_NAME) {
      throw invalid(`a share's ${by} is 1 to ${MAX_USER_NAME} characters`, { field: 'shares' });
    }
    if (seen.has(name)) throw invalid(`${by} "${name}" has two shares`, { field: 'shares' });
    seen.add(name);
    if (!Number.isFinite(s.share) || s.share <= 0 || s.share > MAX_SHARE) {
      throw invalid(`${by} "${name}": share must be above 0 and at most ${MAX_SHARE}`, {
        field: 'shares',
      });
    }
    const b = s.burst ?? null;
    if (b !== null && (!Number.isInteger(b) || b < 0 || b > MAX_BURST)) {
      throw invalid(`${by} "${name}": burst must be a whole number from 0 to ${MAX_BURST}`, {
        field: 'shares',
      });
    }
  }
}

/** The share's holder, which must be named as the pool's shareBy says (and only so). */
function holderOf(s: PoolShareInput, by: ShareBy): string {
  const other = by === 'user' ? s.project : s.user;
  const name = by === 'user' ? s.user : s.project;
  if (other !== undefined || name === undefined) {
    throw invalid(
      by === 'user'
        ? `a pool shared by user takes shares of users ({"user": …}); set shareBy "project" for project shares`
        : `a pool shared by project takes shares of projects ({"project": …}), not of users`,
      { field: 'shares' },
    );
  }
  return name;
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
        share_by: input.shareBy ?? 'user',
        description: input.description ?? '',
        last_modified: ctx.clock(),
      },
      ctx.clock(),
    );
    await replacePoolShares(
      tx,
      name,
      (input.shares ?? []).map((s) => ({
        user_name: holderOf(s, input.shareBy ?? 'user'),
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
      shareBy: 'user',
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
    shareBy: row.share_by,
    description: row.description,
    shares: await Promise.all(
      shares.map(async (s) => ({
        ...(row.share_by === 'project' ? { project: s.user_name } : { user: s.user_name }),
        share: Number(s.share),
        burst: s.burst === null ? null : Number(s.burst),
        running: await holderRunning(db, row.name, row.share_by, s.user_name),
      })),
    ),
    createdAt: Number(row.created_at),
    lastModified: Number(row.last_modified),
  };
}
