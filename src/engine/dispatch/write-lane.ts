import type { Db, Tx } from '../../store/database.js';
import { inTransaction, type Emit, type EngineContext } from '../context.js';
import type { EngineSettings } from '../settings.js';
import { GroupCommit, type ItemFailure } from './group-commit.js';
import { HeldConnection } from './held-connection.js';
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
  /**
   * Called with the transaction's items of this kind before any kind writes: what a later
   * kind leaves to the transaction's end (LaneEnd) for an earlier one to write with its own.
   */
  gather?(settings: EngineSettings, items: T[], end: LaneEnd): void;
}

interface LaneItem {
  kind: LaneKind<unknown, unknown>;
  item: unknown;
}

/** The most items of all kinds one transaction takes. */
const MAX_ITEMS = 200;

/** PostgreSQL: the lane's transactions at once (1; see WriteLane). */
const POSTGRES_TRANSACTIONS = transactionsAtOnce(process.env.DROVER_LANE_TRANSACTIONS);

function transactionsAtOnce(setting: string | undefined): number {
  const n = Number(setting ?? 1);
  return Number.isInteger(n) && n >= 1 && n <= 8 ? n : 1;
}

/**
 * The node protocol's writes, of every node and every kind, in one transaction at a time (a
 * GroupCommit of one writer; on PostgreSQL the next is written behind the last's commit,
 * below): the finishes, starts and claims that arrive together are written together,
 * finishes first, and are answered after one commit.
 *
 * One lane rather than a writer per kind: claims and finishes both move their job's
 * counters, so on PostgreSQL a claim batch and a finish batch of the same job, written side
 * by side, queued on that job's row lock (a claim then gave up and looked again 5 ms later,
 * a finish waited for the other's commit). In one transaction they take the lock in turn
 * for free, and a batch of N calls costs one commit instead of one per kind. Measured on
 * PostgreSQL (bench/peer.ts, single-task protocol, 50 nodes, 3,000 tasks, one quiet
 * machine): a writer per kind, two of each at once, 296 tasks/s; this lane, 422.
 *
 * On PostgreSQL a transaction moves its jobs' counters at its end (LaneEnd, migration
 * 0030), so that it holds their rows for its last statement and its commit only: a second
 * transaction at once, or a replica's, waits on them for no longer than that. Two at once
 * were then still no faster on a quiet 2-core machine (bench/peer.ts, 5,000 tasks, 50
 * nodes, alternating, two rounds): single-task 906 and 882 tasks/s with one, 874 and 779
 * with two; batched 3,610 and 3,820 with one, 3,242 and 3,690 with two; and the database
 * spent 0.50–0.54 ms of CPU per task with one against 0.65–0.74 with two (claims that find
 * each other's rows locked look again). DROVER_LANE_TRANSACTIONS tries more, for
 * benchmarks on bigger machines (bench/README.md).
 *
 * PostgreSQL, one lane transaction: the next does not wait for the last one's commit to be
 * answered. It takes its batch once the last has written its statements (GroupCommit's
 * `ready`), and its `begin` and first statement go out on the held connection right behind
 * that `commit` (store/postgres-shared-connection.ts). PostgreSQL runs them once the commit
 * is flushed, while its answer travels back and the server answers the last batch's calls:
 * the next sees all the last one wrote and waits on none of its locks, and the last one's
 * calls are still answered only after their own commit. Before, a lane transaction took
 * 7.9 ms, of which the commit's round trip was 2.1 ms and the wait before the next one's
 * statement 1.0 ms (the answers of the last batch ran first). Measured (bench/peer.ts,
 * 10,000 tasks, 50 nodes, alternated, one 2-core machine): single-task 1,080, 1,253 and
 * 964 tasks/s before, 1,226, 1,390 and 1,184 after; batched 5,141, 4,868 and 3,623
 * before, 5,609, 5,755 and 4,877 after.
 */
export class WriteLane {
  readonly #commit: GroupCommit<LaneItem, unknown>;
  /** Settled when the transaction still writing its statements has written them. */
  #writing: Promise<void> | undefined;

  constructor(ctx: EngineContext, settings: EngineSettings) {
    // PostgreSQL: one transaction's statements at a time, on a connection the lane holds,
    // and the next one's written behind its commit (see WriteLane).
    const held =
      ctx.dialect === 'postgres' && POSTGRES_TRANSACTIONS === 1
        ? new HeldConnection(ctx.db)
        : undefined;
    const writers = held ? 2 : ctx.dialect === 'postgres' ? POSTGRES_TRANSACTIONS : 1;
    this.#commit = new GroupCommit<LaneItem, unknown>(
      (items) => {
        if (!held) return writeTogether(ctx, settings, items);
        let written!: () => void;
        const writing = new Promise<void>((resolve) => (written = resolve));
        this.#writing = writing;
        const done = () => {
          if (this.#writing === writing) this.#writing = undefined;
          written();
        };
        return held.run((db) => writeTogether(ctx, settings, items, db, done)).finally(done);
      },
      {
        maxBatch: (batch, next) =>
          batch.length < MAX_ITEMS &&
          batch.filter((b) => b.kind === next.kind).length < next.kind.max,
        writers,
        alone: ({ kind, item }) => kind.alone(ctx, settings, item),
        onIdle: () => held?.release(),
        ready: () => this.#writing,
      },
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
  /** The connection to write on (the pool's by default). */
  db?: Db,
  /** Called when the transaction has written its statements, before its commit. */
  written?: () => void,
): Promise<unknown[]> {
  return inTransaction(
    ctx,
    async (tx, emit) => {
      try {
        return await writeKinds(ctx, settings, items, tx, emit);
      } finally {
        written?.();
      }
    },
    db,
  );
}

async function writeKinds(
  ctx: EngineContext,
  settings: EngineSettings,
  items: LaneItem[],
  tx: Tx,
  emit: Emit,
): Promise<unknown[]> {
  const end = new LaneEnd(ctx, tx, emit);
  const byKind = new Map<LaneKind<unknown, unknown>, number[]>();
  items.forEach(({ kind }, i) => {
    const indexes = byKind.get(kind) ?? [];
    indexes.push(i);
    byKind.set(kind, indexes);
  });
  const results = new Array<unknown>(items.length);
  const kinds = [...byKind]
    .sort(([a], [b]) => a.order - b.order)
    .map(([kind, indexes]) => ({ kind, indexes, of: indexes.map((i) => items[i]!.item) }));
  for (const { kind, of } of kinds) kind.gather?.(settings, of, end);
  for (const { kind, indexes, of } of kinds) {
    const written = await kind.write(ctx, settings, tx, emit, of, end);
    indexes.forEach((itemIndex, k) => (results[itemIndex] = written[k]));
  }
  await end.flush();
  return results;
}

const lanes = new WeakMap<EngineContext, WriteLane>();
/** The engine's write lane (one per engine, keyed by its context), made on first use. */
export function writeLane(ctx: EngineContext, settings: EngineSettings): WriteLane {
  let lane = lanes.get(ctx);
  if (!lane) lanes.set(ctx, (lane = new WriteLane(ctx, settings)));
  return lane;
}
