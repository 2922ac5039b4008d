import {
  CompiledQuery,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type Driver,
} from 'kysely';
import type { Db } from './database.js';
import type { Database } from './schema.js';

/** One pool connection, held, and a Db over it on which transactions may overlap. */
export interface SharedConnection {
  db: Db;
  /** Gives the connection back to the pool. */
  release: () => void;
}

/**
 * PostgreSQL: takes a connection of `db`'s pool and holds it until `release`, giving a Db
 * over it on which several transactions may be under way at once. Kysely's own
 * `db.connection()` runs them one after another: the next `begin` waited for the last
 * `commit`'s answer. Here the driver of the pool (preparingPool, in pg's pipeline mode)
 * writes a `begin` as soon as the transaction before it has written its end, so that
 * PostgreSQL runs the next transaction's statements right behind that commit while its
 * answer is still on the way back (engine/dispatch/write-lane.ts says what that gains).
 * They never share a transaction: a `begin` is never written before the end of the one
 * before it.
 */
export function holdSharedConnection(db: Db): Promise<SharedConnection> {
  return new Promise((resolve, reject) => {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    db.getExecutor()
      .provideConnection(async (connection) => {
        resolve({ db: new Kysely<Database>({ dialect: new OneConnection(connection) }), release });
        // The pool has the connection back when this returns.
        await released;
      })
      .catch(reject);
  });
}

/** A dialect whose every query and transaction runs on one connection it does not own. */
class OneConnection implements Dialect {
  constructor(private readonly connection: DatabaseConnection) {}

  createAdapter = () => new PostgresAdapter();
  createQueryCompiler = () => new PostgresQueryCompiler();
  createIntrospector = (db: Kysely<unknown>) => new PostgresIntrospector(db);

  createDriver(): Driver {
    const connection = this.connection;
    const run = (c: DatabaseConnection, text: string) =>
      c.executeQuery(CompiledQuery.raw(text)).then(() => undefined);
    return {
      init: async () => undefined,
      acquireConnection: async () => connection,
      beginTransaction: (c) => run(c, 'begin'),
      commitTransaction: (c) => run(c, 'commit'),
      rollbackTransaction: (c) => run(c, 'rollback'),
      releaseConnection: async () => undefined,
      destroy: async () => undefined,
    };
  }
}
