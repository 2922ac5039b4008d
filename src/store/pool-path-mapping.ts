import { sql } from 'kysely';
import type { DialectName, Executor } from './database.js';
import type { PoolPathMappingRulesTable } from './schema.js';

/* Pools' path mapping rules (migration 0043, engine/pools/path-mapping.ts). */

export type PoolPathMappingRow = PoolPathMappingRulesTable;

/** The rules of the pools named, each pool's in their order. */
export async function pathMappingRows(
  db: Executor,
  pools: readonly string[],
): Promise<PoolPathMappingRow[]> {
  if (pools.length === 0) return [];
  return db
    .selectFrom('pool_path_mapping_rules')
    .selectAll()
    .where('pool', 'in', pools)
    .orderBy('pool')
    .orderBy('position')
    .execute();
}

/** The pools that hold rules, by name. */
export async function poolsWithPathMapping(db: Executor): Promise<string[]> {
  const rows = await db
    .selectFrom('pool_path_mapping_rules')
    .select('pool')
    .distinct()
    .orderBy('pool')
    .execute();
  return rows.map((r) => r.pool);
}

/** Replaces a pool's rules with these, in this order. */
export async function replacePathMappingRows(
  db: Executor,
  pool: string,
  rules: readonly Omit<PoolPathMappingRow, 'pool' | 'position'>[],
): Promise<void> {
  await db.deleteFrom('pool_path_mapping_rules').where('pool', '=', pool).execute();
  if (rules.length === 0) return;
  await db
    .insertInto('pool_path_mapping_rules')
    .values(rules.map((r, position) => ({ pool, position, ...r })))
    .execute();
}

/**
 * Serialises changes of one pool's rules (an added rule is read, appended and written
 * back). PostgreSQL: a transaction-scoped advisory lock per pool; SQLite runs one writer.
 */
export async function lockPoolPathMapping(
  tx: Executor,
  dialect: DialectName,
  pool: string,
): Promise<void> {
  if (dialect !== 'postgres') return;
  await sql`select pg_advisory_xact_lock(hashtext(current_schema() || '/pool_path_mapping'),
    hashtext(${pool}))`.execute(tx);
}
