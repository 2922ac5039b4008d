import type { Db } from '../../store/database.js';
import {
  holdSharedConnection,
  type SharedConnection,
} from '../../store/postgres-shared-connection.js';

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
 *
 * Batches may run on it at once: their transactions are written one behind the other
 * (store/postgres-shared-connection.ts).
 */
export class HeldConnection {
  #held: Promise<Held> | undefined;

  constructor(private readonly db: Db) {}

  /** Runs `work` on the held connection, taking one first if none is held. */
  async run<T>(work: (db: Db) => Promise<T>): Promise<T> {
    const taking = (this.#held ??= this.#take());
    let held: Held;
    try {
      held = await taking;
    } catch (error) {
      if (this.#held === taking) this.#held = undefined;
      throw error;
    }
    held.users++;
    try {
      return await work(held.connection.db);
    } catch (error) {
      // A connection that failed a transaction may be broken: the next batch takes another,
      // and this one goes back when the batches still on it are done.
      if (this.#held === taking) this.#held = undefined;
      held.retired = true;
      throw error;
    } finally {
      if (--held.users === 0 && held.retired) held.connection.release();
    }
  }

  /** Gives the connection back to the pool once no batch is on it (the writer is idle). */
  release(): void {
    const taking = this.#held;
    this.#held = undefined;
    taking?.then(
      (held) => {
        held.retired = true;
        if (held.users === 0) held.connection.release();
      },
      () => undefined,
    );
  }

  async #take(): Promise<Held> {
    return { connection: await holdSharedConnection(this.db), users: 0, retired: false };
  }
}

interface Held {
  connection: SharedConnection;
  /** Batches running on it. */
  users: number;
  /** No new batch takes it; it goes back to the pool when `users` is 0. */
  retired: boolean;
}
