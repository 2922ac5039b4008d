import type { BlobStore } from '../store/blob-store.js';
import type { Db, DialectName, Tx } from '../store/database.js';
import type { Clock } from './clock.js';
import type { EventBus } from './events/event-bus.js';
import type { DroverEvent } from './events/events.js';
import type { JobDefinitionFormat } from './job-types/job-definition-formats.js';

/** What every engine service needs: the database, the bus and the time. */
export interface EngineContext {
  db: Db;
  dialect: DialectName;
  bus: EventBus;
  clock: Clock;
  /** Where outputs' bytes are kept (files beside SQLite, large objects in PostgreSQL). */
  blobs: BlobStore;
  /** The job-definition formats whose documents job types may hold (Seed manifests). */
  formats: readonly JobDefinitionFormat[];
}

export type Emit = (event: DroverEvent) => void;

// Deadlock and serialization failures are safe to retry: the transaction left nothing behind.
// So is a unique violation (23505): two transactions checked that a name was free and both
// inserted it. Run again, the loser finds the winner's row and answers as it would have on
// SQLite, where writers take turns (an update, or the conflict a create answers).
const RETRYABLE_PG_CODES = new Set(['40001', '40P01', '23505']);
const MAX_ATTEMPTS = 5;

/**
 * Events as they are emitted, each stamped then, to publish together once the writes that
 * emitted them are committed (a transaction, or a statement that commits by itself).
 */
export function pendingEvents(ctx: EngineContext): { emit: Emit; deliver: () => void } {
  const events: (DroverEvent & { at: number })[] = [];
  return {
    emit: (event) => void events.push({ ...event, at: ctx.clock() }),
    deliver: () => ctx.bus.deliver(events),
  };
}

/**
 * Runs `work` in one transaction and publishes the events it emitted once it commits (with
 * PostgreSQL, to other replicas too: see PostgresEventBus for why not inside the transaction).
 */
export async function inTransaction<T>(
  ctx: EngineContext,
  work: (tx: Tx, emit: Emit) => Promise<T>,
  /** Where the transaction runs: ctx.db, or one connection of it that a writer holds. */
  db: Db = ctx.db,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const events = pendingEvents(ctx);
    try {
      const result = await db.transaction().execute((tx) => work(tx, events.emit));
      events.deliver();
      return result;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (attempt >= MAX_ATTEMPTS || typeof code !== 'string' || !RETRYABLE_PG_CODES.has(code)) {
        throw error;
      }
    }
  }
}
