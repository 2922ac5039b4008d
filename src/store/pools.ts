import { sql } from 'kysely';
import { projectRunningInPool, userRunningInPool } from './claim-looks.js';
import { compiledQuery } from './compiled-queries.js';
import type { DialectName, Executor } from './database.js';
import type { PoolSharesTable, PoolsTable } from './schema.js';

/*
 * Pools' scheduling modes and weighted pools' shares (migration 0037, docs/scheduling.md).
 * The walk orders by them (claim-looks.ts, drover_claim); the claim enforces burst limits
 * (burstRoom here on SQLite and in the group-less path, drover_claim on PostgreSQL).
 */

export type PoolRow = PoolsTable;
export type PoolShareRow = PoolSharesTable;

export async function listPoolRows(db: Executor): Promise<PoolRow[]> {
  return db.selectFrom('pools').selectAll().orderBy('name').execute();
}

export async function findPoolRow(db: Executor, name: string): Promise<PoolRow | undefined> {
  return db.selectFrom('pools').selectAll().where('name', '=', name).executeTakeFirst();
}

export async function poolShareRows(db: Executor, pool: string): Promise<PoolShareRow[]> {
  return db
    .selectFrom('pool_shares')
    .selectAll()
    .where('pool', '=', pool)
    .orderBy('user_name')
    .execute();
}

export async function upsertPoolRow(
  db: Executor,
  row: Omit<PoolRow, 'created_at'>,
  now: number,
): Promise<void> {
  await db
    .insertInto('pools')
    .values({ ...row, created_at: now })
    .onConflict((oc) =>
      oc.column('name').doUpdateSet({
        mode: row.mode,
        share_by: row.share_by,
        description: row.description,
        last_modified: row.last_modified,
      }),
    )
    .execute();
}

export async function replacePoolShares(
  db: Executor,
  pool: string,
  shares: readonly Omit<PoolShareRow, 'pool'>[],
): Promise<void> {
  await db.deleteFrom('pool_shares').where('pool', '=', pool).execute();
  if (shares.length === 0) return;
  await db
    .insertInto('pool_shares')
    .values(shares.map((s) => ({ pool, ...s })))
    .execute();
}

export async function deletePoolRow(db: Executor, name: string): Promise<boolean> {
  await db.deleteFrom('pool_shares').where('pool', '=', name).execute();
  const r = await db.deleteFrom('pools').where('name', '=', name).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

export type ShareBy = PoolRow['share_by'];

/** Running tasks of a share holder's jobs in a pool (a user's, or a project's), from the counters. */
export async function holderRunning(
  db: Executor,
  pool: string,
  by: ShareBy,
  holder: string,
): Promise<number> {
  const row = await (by === 'project' ? PROJECT_RUNNING : USER_RUNNING).executeTakeFirst(
    db,
    pool,
    holder,
  );
  return Number(row?.n ?? 0);
}

const USER_RUNNING = compiledQuery(
  (_db, pool: string, user: string) =>
    sql<{ n: number | string }>`select ${userRunningInPool(sql`${pool}`, sql`${user}`)} as n`,
);

const PROJECT_RUNNING = compiledQuery(
  (_db, pool: string, project: string) =>
    sql<{
      n: number | string;
    }>`select ${projectRunningInPool(sql`${pool}`, sql`${project}`)} as n`,
);

/** A job's share in its pool when the pool is weighted: whose, and its burst limit. */
export interface JobShare {
  pool: string;
  by: ShareBy;
  holder: string;
  burst: number | null;
}

/** The weighted share a job counts against; undefined when its pool is not weighted. */
export async function jobShare(
  db: Executor,
  job: { pool: string; user_name: string; project: string },
): Promise<JobShare | undefined> {
  if (job.pool === '') return undefined;
  const pool = await findPoolRow(db, job.pool);
  if (pool?.mode !== 'weighted') return undefined;
  const holder = pool.share_by === 'project' ? job.project : job.user_name;
  const share = await db
    .selectFrom('pool_shares')
    .select('burst')
    .where('pool', '=', job.pool)
    .where('user_name', '=', holder)
    .executeTakeFirst();
  const burst = share?.burst ?? null;
  return {
    pool: job.pool,
    by: pool.share_by,
    holder,
    burst: burst === null ? null : Number(burst),
  };
}

/**
 * How many more tasks a share holder (a user, or a project) under a burst limit may start in
 * the pool, counted in the claim's transaction. PostgreSQL: under the advisory lock
 * drover_claim takes per pool and holder (migrations 0037, 0042: the same key), tried and
 * never awaited; -1 when another transaction holds it. SQLite runs one writer at a time.
 */
export async function burstRoom(
  tx: Executor,
  dialect: DialectName,
  pool: string,
  by: ShareBy,
  holder: string,
  burst: number,
): Promise<number> {
  if (dialect === 'postgres') {
    const key = by === 'project' ? `${pool}/project/${holder}` : `${pool}/${holder}`;
    const row = await USER_LOCK.executeTakeFirst(tx, key);
    if (row?.ok !== true) return -1;
  }
  return burst - (await holderRunning(tx, pool, by, holder));
}

const USER_LOCK = compiledQuery(
  (_db, key: string) => sql<{ ok: boolean }>`
    select pg_try_advisory_xact_lock(hashtext(current_schema() || '/drover_claim/user'),
      hashtext(${key})) as ok
  `,
);
