import type { Db } from '../../store/database.js';

/*
 * PostgreSQL: one pool connection held by a writer that writes one batch after another (the
 * write lane, the start calls), from its first batch until it has no more work, instead of
 * one taken from the pool for each batch.
 *
 * Taking a connection costs no round trip, but pg's pool hands an idle connection over on a
 * later tick, and on a busy server that tick waits behind every promise already queued: the
 * lane waited 1.1–1.6 ms on average for a connection, of a transaction of ~13 ms
 * (bench/peer.ts, single-task protocol, 50 nodes, PostgreSQL), and no more so with a pool
 * of 30 connections than with 10. Held, the lane's transaction began 0.5 ms after it was
 * asked for, of a transaction of ~12 ms. (The benchmark's tasks/s moved within the
 * machine's noise of ±10%.)
 */
export class HeldConnection {
  #held: Promise<{ db: Db; release: () => void }> | undefined;

  constructor(private readonly db: Db) {}

  /** Runs `work` on the held connection, taking one first if none is held. */
  async run<T>(work: (db: Db) => Promise<T>): Promise<T> {
    const held = (this.#held ??= this.#take());
    let db: Db;
    try {
      ({ db } = await held);
    } catch (error) {
      if (this.#held === held) this.#held = undefined;
      throw error;
    }
    try {
      return await work(db);
    } catch (error) {
      // A connection that failed a transaction may be broken: the next one is taken anew.
      this.release();
      throw error;
    }
  }

  /** Gives the connection back to the pool (the writer has no more work for now). */
  release(): void {
    const held = this.#held;
    this.#held = undefined;
    held?.then(
      (h) => h.release(),
      () => undefined,
    );
  }

  #take(): Promise<{ db: Db; release: () => void }> {
    return new Promise((resolve, reject) => {
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      // Kysely keeps the connection for as long as this callback runs.
      this.db
        .connection()
        .execute(async (db) => {
          resolve({ db, release });
          await released;
        })
        .catch(reject);
    });
  }
}
