import type {
  DatabaseConnection,
  Dialect,
  Driver,
  Kysely,
  QueryCompiler,
  TransactionSettings,
} from 'kysely';
import { DroverError } from '../domain/errors.js';

/** How long closing waits for work that already holds a connection. */
const DRAIN_TIMEOUT_MS = 10_000;

/**
 * A dialect whose database can be closed without cutting work short. Kysely's destroy()
 * refuses new queries with "driver has already been destroyed" and ends connections that a
 * transaction still holds: a claim or an upload racing the shutdown failed with a 500 and a
 * stack trace, or lost a write that was about to commit. drain() refuses new work with a
 * 503 that says why, and waits for the connections already handed out to come back.
 */
export class DrainingDialect implements Dialect {
  #closing = false;
  #held = 0;
  #idle: (() => void) | undefined;

  constructor(private readonly inner: Dialect) {}

  createAdapter = () => this.inner.createAdapter();
  createQueryCompiler = () => this.inner.createQueryCompiler();
  createIntrospector = (db: Kysely<unknown>) => this.inner.createIntrospector(db);

  createDriver(): Driver {
    const driver = this.inner.createDriver();
    const release = (): void => {
      if (--this.#held === 0) this.#idle?.();
    };
    return {
      init: () => driver.init(),
      acquireConnection: async (): Promise<DatabaseConnection> => {
        if (this.#closing) {
          throw new DroverError('UNAVAILABLE', 'the server is shutting down; try again shortly');
        }
        this.#held++;
        try {
          return await driver.acquireConnection();
        } catch (error) {
          release();
          throw error;
        }
      },
      beginTransaction: (c: DatabaseConnection, s: TransactionSettings) =>
        driver.beginTransaction(c, s),
      commitTransaction: (c: DatabaseConnection) => driver.commitTransaction(c),
      rollbackTransaction: (c: DatabaseConnection) => driver.rollbackTransaction(c),
      ...savepoints(driver),
      releaseConnection: async (c: DatabaseConnection) => {
        try {
          await driver.releaseConnection(c);
        } finally {
          release();
        }
      },
      destroy: () => driver.destroy(),
    };
  }

  /** Refuses new connections and waits (boundedly) until every one handed out is back. */
  async drain(timeoutMs = DRAIN_TIMEOUT_MS): Promise<void> {
    this.#closing = true;
    if (this.#held === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      timer.unref();
      this.#idle = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

type Compile = QueryCompiler['compileQuery'];

function savepoints(driver: Driver): Partial<Driver> {
  const { savepoint, rollbackToSavepoint, releaseSavepoint } = driver;
  return {
    ...(savepoint
      ? {
          savepoint: (c: DatabaseConnection, n: string, q: Compile) =>
            savepoint.call(driver, c, n, q),
        }
      : {}),
    ...(rollbackToSavepoint
      ? {
          rollbackToSavepoint: (c: DatabaseConnection, n: string, q: Compile) =>
            rollbackToSavepoint.call(driver, c, n, q),
        }
      : {}),
    ...(releaseSavepoint
      ? {
          releaseSavepoint: (c: DatabaseConnection, n: string, q: Compile) =>
            releaseSavepoint.call(driver, c, n, q),
        }
      : {}),
  };
}
