import { invalid, notFound } from '../../domain/errors.js';
import {
  checkPathMappingRule,
  sourceKey,
  type PathMappingRule,
} from '../../domain/path-mapping-rules.js';
import type { Tx } from '../../store/database.js';
import {
  lockPoolPathMapping,
  pathMappingRows,
  poolsWithPathMapping,
  replacePathMappingRows,
} from '../../store/pool-path-mapping.js';
import { inTransaction, type EngineContext } from '../context.js';
import { MAX_POOL_NAME } from './pools.js';

/*
 * A pool's path mapping rules (docs/workers.md#path-mapping), as Deadline Cloud's storage
 * profiles give them: the nodes of a pool share one OS and filesystem layout, so the server
 * holds, per pool, where a submitter's path is found on them (`/mnt/projects` →
 * `/data/projects`, `P:\` → `/mnt/p`). Each work order carries the rules of its job's pool
 * (the pool its task was dispatched for), and the worker applies them, with its own file's,
 * to PATH parameters exactly as OpenJD path mapping says. Anyone may read them; admins set
 * them, since they decide which files every job of the pool reads and writes.
 */

/** Deadline Cloud allows 20 file system locations a storage profile; 100 rules is plenty. */
export const MAX_POOL_PATH_MAPPING_RULES = 100;
/** A path of at most 1024 characters, as Deadline Cloud's file system locations. */
export const MAX_RULE_PATH = 1024;
const BOUNDS = { maxPathLength: MAX_RULE_PATH, absoluteDestination: true };

function checkPool(pool: string): void {
  if (pool.length === 0 || pool.length > MAX_POOL_NAME) {
    throw invalid(`a pool's name is 1 to ${MAX_POOL_NAME} characters`, { field: 'name' });
  }
}

/** Checks a pool's whole rule list; throws a 400 naming the rule and what is wrong. */
export function checkPoolRules(rules: readonly unknown[]): PathMappingRule[] {
  if (rules.length > MAX_POOL_PATH_MAPPING_RULES) {
    throw invalid(
      `a pool holds at most ${MAX_POOL_PATH_MAPPING_RULES} path mapping rules, got ${rules.length}`,
      { field: 'path_mapping_rules' },
    );
  }
  const seen = new Map<string, number>();
  return rules.map((rule, i) => {
    const where = `path_mapping_rules[${i}]`;
    let checked: PathMappingRule;
    try {
      checked = checkPathMappingRule(rule, where, BOUNDS);
    } catch (error) {
      throw invalid((error as Error).message, { field: where });
    }
    // Two rules for one source path: only the first could ever apply.
    const key = sourceKey(checked);
    const first = seen.get(key);
    if (first !== undefined) {
      throw invalid(
        `${where}.source_path "${checked.source_path}" is already mapped by path_mapping_rules[${first}]; remove one`,
        { field: `${where}.source_path` },
      );
    }
    seen.set(key, i);
    return checked;
  });
}

const ruleOf = (r: PathMappingRule): PathMappingRule => ({
  source_path_format: r.source_path_format,
  source_path: r.source_path,
  destination_path: r.destination_path,
});

/** A pool's rules in their order; none for a pool that has none. */
export async function getPathMappingRules(
  ctx: EngineContext,
  pool: string,
): Promise<PathMappingRule[]> {
  checkPool(pool);
  return (await pathMappingRows(ctx.db, [pool])).map(ruleOf);
}

/** The pools that hold rules, each with its rules. */
export async function listPathMappingRules(
  ctx: EngineContext,
): Promise<{ pool: string; rules: PathMappingRule[] }[]> {
  const pools = await poolsWithPathMapping(ctx.db);
  const rows = await pathMappingRows(ctx.db, pools);
  return pools.map((pool) => ({ pool, rules: rows.filter((r) => r.pool === pool).map(ruleOf) }));
}

/** Changes a pool's rules under its lock; `change` gets the rules as they are. */
async function changeRules(
  ctx: EngineContext,
  pool: string,
  change: (current: PathMappingRule[]) => readonly unknown[],
): Promise<PathMappingRule[]> {
  checkPool(pool);
  return inTransaction(ctx, async (tx: Tx, emit) => {
    await lockPoolPathMapping(tx, ctx.dialect, pool);
    const current = (await pathMappingRows(tx, [pool])).map(ruleOf);
    const rules = checkPoolRules(change(current));
    await replacePathMappingRows(tx, pool, rules);
    // Every replica's work orders carry the new rules from the next claim (the cache below).
    emit({ type: 'pool.changed', name: pool });
    return rules;
  });
}

/** Replaces a pool's rules (an empty list removes them). */
export function setPathMappingRules(
  ctx: EngineContext,
  pool: string,
  rules: readonly unknown[],
): Promise<PathMappingRule[]> {
  return changeRules(ctx, pool, () => rules);
}

/** Adds a rule after the pool's others. */
export function addPathMappingRule(
  ctx: EngineContext,
  pool: string,
  rule: unknown,
): Promise<PathMappingRule[]> {
  return changeRules(ctx, pool, (current) => {
    if (current.length >= MAX_POOL_PATH_MAPPING_RULES) {
      throw invalid(
        `pool ${pool} holds ${current.length} path mapping rules already, the most a pool may; remove one first`,
        { field: 'path_mapping_rules' },
      );
    }
    return [...current, rule];
  });
}

/** Removes the pool's rule at `index` (0-based, as `drover pool path-mapping show` numbers them). */
export function removePathMappingRule(
  ctx: EngineContext,
  pool: string,
  index: number,
): Promise<PathMappingRule[]> {
  return changeRules(ctx, pool, (current) => {
    if (!Number.isInteger(index) || index < 0 || index >= current.length) {
      throw notFound(`path mapping rule of pool ${pool}`, index);
    }
    return current.filter((_, i) => i !== index);
  });
}

/** How long a replica trusts the rules it read, should the event of a change be lost. */
const CACHE_MS = 10_000;

/**
 * The rules of the pools of a claim's orders, for the work orders. Read once per pool and
 * kept: a claim answer reads nothing on the dispatch path. A change anywhere empties the
 * cache through the `pool.changed` event (every replica gets it); events are hints, so an
 * entry is also read again after CACHE_MS. A read that started before a change is not kept.
 */
export class PathMappingCache {
  private readonly rules = new Map<string, { rules: PathMappingRule[]; at: number }>();
  private generation = 0;
  private readonly unsubscribe: () => void;

  constructor(private readonly ctx: EngineContext) {
    this.unsubscribe = ctx.bus.subscribe((event) => {
      if (event.type !== 'pool.changed') return;
      this.generation++;
      this.rules.clear();
    });
  }

  async rulesOf(pools: readonly string[]): Promise<Map<string, PathMappingRule[]>> {
    const now = Date.now();
    const found = new Map<string, PathMappingRule[]>();
    const missing: string[] = [];
    for (const pool of new Set(pools)) {
      const hit = this.rules.get(pool);
      if (hit && now - hit.at < CACHE_MS) found.set(pool, hit.rules);
      else if (pool !== '') missing.push(pool);
      else found.set(pool, []);
    }
    if (missing.length === 0) return found;
    const generation = this.generation;
    const rows = await pathMappingRows(this.ctx.db, missing);
    for (const pool of missing) {
      const rules = rows.filter((r) => r.pool === pool).map(ruleOf);
      found.set(pool, rules);
      if (generation === this.generation) this.rules.set(pool, { rules, at: now });
    }
    return found;
  }

  close(): void {
    this.unsubscribe();
    this.rules.clear();
  }
}
