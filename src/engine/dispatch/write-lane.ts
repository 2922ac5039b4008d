import type { Tx } from '../../store/database.js';
import { inTransaction, type Emit, type EngineContext } from '../context.js';
import type { EngineSettings } from '../settings.js';
import { GroupCommit, type ItemFailure } from './group-commit.js';
import { LaneEnd } from './lane-end.js';

/**
 * One kind of write of the node protocol (claims, starts, finishes) that shares the
 * engine's write lane: how a batch of its items is written inside the lane's transaction,
 * and how one item is written alone.
 */
export interface LaneKind<T, R> {
  /** Within a transaction, kinds are written in this order (lowest first). */
  readonly order: number;
  /** The most items of this kind one transaction takes. */
  readonly max: number;
  write(
    ctx: EngineContext,
    settings: EngineSettings,
    tx: Tx,
    emit: Emit,
    items: T[],
    /** PostgreSQL: the job counters moved at the transaction's end. */
    end: LaneEnd,
  ): Promise<(R | ItemFailure)[]>;
  alone(ctx: EngineContext, settings: EngineSettings, item: T): Promise<R>;
}

interface LaneItem {
  kind: LaneKind<unknown, unknown>;
  item: unknown;
}

/** The most items of all kinds one transaction takes. */
const MAX_ITEMS = 200;

/**
 * PostgreSQL: the lane's transactions at once. DROVER_LANE_TRANSACTIONS overrides it, for
 * benchmarks only (bench/README.md).
 */
const POSTGRES_TRANSACTIONS = transactionsAtOnce(process.env.DROVER_LANE_TRANSACTIONS);

function transactionsAtOnce(setting: string | undefined): number {
  const n = Number(setting ?? 2);
  return Number.isInteger(n) && n >= 1 && n <= 8 ? n : 2;
}

/**
 * The node protocol's writes, of every node and every kind, in one transaction at a time on
 * SQLite and two on PostgreSQL (a GroupCommit of TRANSACTIONS writers): the finishes, starts
 * and claims that arrive together are written together, finishes first, and are answered
 * after one commit.
 *
 * One lane rather than a writer per kind: claims and finishes both move their job's
 * counters, so on PostgreSQL a claim batch and a finish batch of the same job, written side
 * by side, queued on that job's row lock (a claim then gave up and looked again 5 ms later,
 * a finish waited for the other's commit). In one transaction they take the lock in turn
 * for free, and a batch of N calls costs one commit instead of one per kind. Measured on
 * PostgreSQL (bench/peer.ts, single-task protocol, 50 nodes, 3,000 tasks, one quiet
 * machine): a writer per kind, two of each at once, 296 tasks/s; this lane, 422.
 *
 * Two transactions at once were no faster (296 again) while each locked its jobs' rows at
 * its first finish or claim and held them to its commit. They now move every job counter at
 * their end (LaneEnd, migration 0030), so the second transaction's finishes, starts and walk
 * of the queue run while the first one's counters and commit do. On PostgreSQL the server
 * spends most of a transaction waiting for round trips (begin, finishes, starts, the claim,
 * commit; 79% of its event loop idle in a CPU profile of the drain), which the second
 * transaction fills: TRANSACTIONS_MEASURED.
 */
export class WriteLane {
  readonly #commit: GroupCommit<LaneItem, unknown>;

  constructor(ctx: EngineContext, settings: EngineSettings) {
    this.#commit = new GroupCommit<LaneItem, unknown>(
      (items) => writeTogether(ctx, settings, items),
      (batch, next) =>
        batch.length < MAX_ITEMS &&
        batch.filter((b) => b.kind === next.kind).length < next.kind.max,
      ctx.dialect === 'postgres' ? POSTGRES_TRANSACTIONS : 1,
      ({ kind, item }) => kind.alone(ctx, settings, item),
    );
  }

  submit<T, R>(kind: LaneKind<T, R>, item: T): Promise<R> {
    return this.#commit.submit({ kind: kind as LaneKind<unknown, unknown>, item }) as Promise<R>;
  }
}

function writeTogether(
  ctx: EngineContext,
  settings: EngineSettings,
  items: LaneItem[],
): Promise<unknown[]> {
  return inTransaction(ctx, async (tx, emit) => {
    const end = new LaneEnd();
    const byKind = new Map<LaneKind<unknown, unknown>, number[]>();
    items.forEach(({ kind }, i) => {
      const indexes = byKind.get(kind) ?? [];
      indexes.push(i);
      byKind.set(kind, indexes);
    });
    const results = new Array<unknown>(items.length);
    for (const [kind, indexes] of [...byKind].sort(([a], [b]) => a.order - b.order)) {
      const written = await kind.write(
        ctx,
        settings,
        tx,
        emit,
        indexes.map((i) => items[i]!.item),
        end,
      );
      indexes.forEach((itemIndex, k) => (results[itemIndex] = written[k]));
    }
    await end.flush(tx);
    return results;
  });
}

const lanes = new WeakMap<EngineContext, WriteLane>();

/** The engine's write lane (one per engine, keyed by its context), made on first use. */
export function writeLane(ctx: EngineContext, settings: EngineSettings): WriteLane {
  let lane = lanes.get(ctx);
  if (!lane) lanes.set(ctx, (lane = new WriteLane(ctx, settings)));
  return lane;
}
