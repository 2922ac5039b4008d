import type { EngineContext } from '../context.js';
import type { EngineSettings } from '../settings.js';

/** One item's own failure, in the answer of a GroupCommit's `write`. */
export class ItemFailure {
  constructor(readonly error: unknown) {}
}

/**
 * Group commit: requests that arrive in the same turn of the event loop, or while a batch
 * is being written, are written together in one transaction; each is answered only after
 * the transaction that holds it commits. A lone request is written at the end of the turn,
 * so nothing waits on a timer; under load, N requests cost one commit instead of N (the
 * disk flushes only a few thousand commits per second, and with 4,000 idle nodes their
 * heartbeats alone cost 195 transactions/s).
 *
 * Up to `writers` batches are written at once, each in its own transaction: SQLite has one
 * connection and takes one; PostgreSQL's pool lets several run side by side, so that a
 * batch waiting on a row lock or a round trip does not hold up every other request.
 *
 * Given `spacingMs`, a batch starts no sooner than that after the last one started: a steady
 * stream of requests that arrive apart (4,000 idle nodes' heartbeats, spread over their
 * interval) is written a batch per interval instead of one transaction each, while a lone
 * request after a quiet spell still goes at once.
 *
 * `write` answers one result per item, in order; when it throws, every item of that batch
 * fails with its error, or, given `alone`, is written again by itself. An ItemFailure in its
 * answer fails that item alone.
 */
export class GroupCommit<T, R> {
  #pending: { item: T; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  #writing = 0;
  #scheduled = false;
  /** When the last batch started (performance.now()), for `spacingMs`. */
  #lastStart = -Infinity;

  readonly #maxBatch: number | ((batch: readonly T[], next: T) => boolean);
  readonly #writers: number;
  readonly #alone: ((item: T) => Promise<R>) | undefined;
  readonly #onIdle: (() => void) | undefined;
  readonly #spacingMs: number;
  readonly #ready: (() => Promise<void> | undefined) | undefined;

  constructor(
    private readonly write: (items: T[]) => Promise<(R | ItemFailure)[]>,
    {
      maxBatch = 500,
      writers = 1,
      alone,
      onIdle,
      spacingMs = 0,
      ready,
    }: {
      /** The most items one batch takes, or whether `next` may join `batch`. */
      maxBatch?: number | ((batch: readonly T[], next: T) => boolean);
      writers?: number;
      alone?: (item: T) => Promise<R>;
      /** Called when the last batch of a run of work is written and nothing waits. */
      onIdle?: () => void;
      spacingMs?: number;
      /**
       * What a writer waits for before it takes its batch (undefined: nothing): what
       * arrives meanwhile joins the batch.
       */
      ready?: () => Promise<void> | undefined;
    } = {},
  ) {
    this.#maxBatch = maxBatch;
    this.#writers = writers;
    this.#alone = alone;
    this.#onIdle = onIdle;
    this.#spacingMs = spacingMs;
    this.#ready = ready;
  }

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#pending.push({ item, resolve, reject });
      if (this.#scheduled || this.#writing >= this.#writers) return;
      this.#scheduled = true;
      // Requests that the same turn of the event loop read from their sockets join this
      // batch. On SQLite, whose statements run without yielding to I/O, nothing would
      // otherwise arrive while a batch is written, and every request went alone: with 8
      // nodes, 3.02 transactions per task before, 1.15 after (bench/dispatch.ts).
      setImmediate(() => {
        this.#scheduled = false;
        void this.#drain();
      });
    });
  }

  /** How many of the pending items the next batch takes (always at least one). */
  #batchSize(): number {
    const fits = this.#maxBatch;
    if (typeof fits === 'number') return fits;
    const batch: T[] = [];
    for (const { item } of this.#pending) {
      if (batch.length > 0 && !fits(batch, item)) break;
      batch.push(item);
    }
    return batch.length;
  }

  async #drain(): Promise<void> {
    this.#writing++;
    try {
      while (this.#pending.length > 0) {
        // What arrives while this waits out the spacing joins the batch.
        const wait = this.#lastStart + this.#spacingMs - performance.now();
        if (wait > 0) {
          await new Promise((resolve) => setTimeout(resolve, wait));
          // Another writer that waited beside this one may have taken them all.
          if (this.#pending.length === 0) break;
        }
        let ready;
        while ((ready = this.#ready?.())) await ready;
        // Another writer may have taken them all meanwhile.
        if (this.#pending.length === 0) break;
        this.#lastStart = performance.now();
        const batch = this.#pending.splice(0, this.#batchSize());
        try {
          const results = await this.write(batch.map((b) => b.item));
          batch.forEach((b, i) => {
            const result = results[i]!;
            if (result instanceof ItemFailure) b.reject(result.error);
            else b.resolve(result);
          });
        } catch (error) {
          if (!this.#alone) {
            for (const b of batch) b.reject(error);
            continue;
          }
          // One item may have spoilt the batch: each is written again on its own, and
          // gets the answer it would have had alone.
          for (const b of batch) {
            await this.#alone(b.item).then(b.resolve, b.reject);
          }
        }
      }
    } finally {
      this.#writing--;
      if (this.#writing === 0 && this.#pending.length === 0) this.#onIdle?.();
    }
  }
}

/**
 * Batches PostgreSQL writes side by side; the pool holds 10 connections by default, and
 * claims, starts, finishes, heartbeats and progress each take up to this many of them.
 */
const POSTGRES_WRITERS = 2;

/** How many batches of one kind an engine writes at once (see GroupCommit). */
export function writersFor(ctx: EngineContext): number {
  return ctx.dialect === 'postgres' ? POSTGRES_WRITERS : 1;
}

/**
 * The spacing of the batches of nodes' reports (heartbeats, progress), whose answers carry
 * nothing a node waits on. With 4,000 idle nodes heartbeating every 15 s (bench/nodes.ts,
 * PostgreSQL), the 267 heartbeats a second went one transaction each (22,714 in one run):
 * requests that arrive a few milliseconds apart never met in a batch.
 */
export const REPORT_SPACING_MS = 25;

/**
 * One GroupCommit per engine (keyed by its context), made on first use: each engine's
 * writes batch only with its own.
 */
export function groupCommitPerEngine<T, R>(
  write: (ctx: EngineContext, settings: EngineSettings, items: T[]) => Promise<(R | ItemFailure)[]>,
  {
    maxBatch,
    alone,
    spacingMs,
  }: {
    maxBatch?: number;
    alone?: (ctx: EngineContext, settings: EngineSettings, item: T) => Promise<R>;
    /** See GroupCommit. */
    spacingMs?: number;
  } = {},
): (ctx: EngineContext, settings: EngineSettings) => GroupCommit<T, R> {
  const writers = new WeakMap<EngineContext, GroupCommit<T, R>>();
  return (ctx, settings) => {
    let writer = writers.get(ctx);
    if (!writer) {
      writer = new GroupCommit((items) => write(ctx, settings, items), {
        maxBatch,
        writers: writersFor(ctx),
        alone: alone && ((item) => alone(ctx, settings, item)),
        spacingMs,
      });
      writers.set(ctx, writer);
    }
    return writer;
  };
}
