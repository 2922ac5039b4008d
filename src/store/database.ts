import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect, type Transaction } from 'kysely';
import pg from 'pg';
import { DrainingDialect } from './draining-dialect.js';
import { registerHostMatch } from './host-match-function.js';
import { SchemaScopedPostgresDialect } from './postgres-introspector.js';
import { preparingPool } from './postgres-prepared-statements.js';
import type { Database } from './schema.js';
import { checkpointInBackground } from './sqlite-checkpoints.js';
import { cachingStatements } from './sqlite-statement-cache.js';
import { statementCounting } from './statement-counts.js';

export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;
/** A repository function takes either the database or a transaction. */
export type Executor = Db | Tx;

export type DialectName = 'sqlite' | 'postgres';

export interface DatabaseOptions {
  /** A `postgres://` URL, or a path to the SQLite file. */
  url: string;
  /** PostgreSQL schema to work in (tests use one per run); defaults to `public`. */
  schema?: string;
  /** SQLite: FULL survives power loss, NORMAL (the default) survives a process crash. */
  synchronous?: 'NORMAL' | 'FULL';
  poolSize?: number;
  /**
   * PostgreSQL: names this replica's connections in `pg_stat_activity` (application_name
   * `drover <name>`, its event connection `drover-events <name>`); default: none.
   */
  replicaName?: string;
}

/**
 * A connection's application_name: PostgreSQL keeps 63 bytes of it and turns what is not
 * printable ASCII into `?`, so the name is cut here rather than mangled there.
 */
export function applicationName(role: 'drover' | 'drover-events', replicaName?: string): string {
  return (replicaName ? `${role} ${replicaName}` : role).slice(0, 63);
}

export interface OpenDatabase {
  db: Db;
  /**
   * For reads that need no transaction and may run beside writes (lists). SQLite: a second,
   * read-only connection, opened on first use, so a list never queues behind a write
   * transaction holding `db`'s one connection (WAL lets readers run beside the writer; they
   * see every committed write). PostgreSQL: the same pool as `db`.
   */
  readDb: Db;
  dialect: DialectName;
  /** The schema PostgreSQL objects live in; undefined for SQLite. */
  schema: string | undefined;
  url: string;
  /** Refreshes the planner's statistics where they went stale (SQLite only needs it). */
  optimize(): void;
  close(): Promise<void>;
}

// bigint columns (times in ms, ids) fit in a double; pg would otherwise return them as strings.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (value) => Number(value));

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//.test(url);
}

export function openDatabase(options: DatabaseOptions): OpenDatabase {
  if (isPostgresUrl(options.url)) {
    const open = openPostgres(options);
    return { ...open, readDb: open.db };
  }
  return withSqliteReader(openSqlite(options));
}

/** Adds the read-only connection to an open SQLite database; close() closes both. */
function withSqliteReader(open: Omit<OpenDatabase, 'readDb'>): OpenDatabase {
  const reader = new DrainingDialect(
    new SqliteDialect({
      // Opened on first use: by then the writer has created the file and its WAL.
      database: async () => {
        const connection = new SQLite(open.url, { readonly: true, fileMustExist: true });
        connection.pragma('busy_timeout = 5000');
        registerHostMatch(connection);
        // Lists prepare their statements too: uncached, preparing took 6% of a native job
        // list's CPU (a page of 50 over 100,000 jobs, bench/list.ts shapes).
        return cachingStatements(connection);
      },
    }),
  );
  const readDb = new Kysely<Database>({ dialect: reader });
  return {
    ...open,
    readDb,
    close: async () => {
      await reader.drain();
      await readDb.destroy();
      await open.close();
    },
  };
}

function openSqlite(options: DatabaseOptions): Omit<OpenDatabase, 'readDb'> {
  mkdirSync(dirname(options.url), { recursive: true });
  const sqlite = new SQLite(options.url);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma(`synchronous = ${options.synchronous ?? 'NORMAL'}`);
  sqlite.pragma('foreign_keys = ON');
  // Other processes (the CLI's `drover user add`) may write while the server runs.
  sqlite.pragma('busy_timeout = 5000');
  // The claim's host test (migration 0045).
  registerHostMatch(sqlite);
  const dialect = new DrainingDialect(new SqliteDialect({ database: cachingStatements(sqlite) }));
  const db = new Kysely<Database>({ dialect, ...statementCounting() });
  // SQLite keeps no statistics unless asked; without them it picks poor indexes for
  // date-window lists (measured 320 ms against 20 ms over a million jobs).
  const optimize = (): void => void sqlite.pragma('optimize=0x10002');
  const checkpoints = checkpointInBackground(sqlite, options.url);
  return {
    db,
    dialect: 'sqlite',
    schema: undefined,
    url: options.url,
    optimize,
    close: async () => {
      await dialect.drain();
      await checkpoints.stop();
      await db.destroy();
    },
  };
}

function openPostgres(options: DatabaseOptions): Omit<OpenDatabase, 'readDb'> {
  const schema = options.schema ?? 'public';
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`invalid schema name "${schema}"`);
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    // An application_name in the URL wins (pg reads the URL over these settings).
    application_name: applicationName('drover', options.replicaName),
    // A transaction's `begin` is written with its first statement (preparingPool): pg sends
    // queries without waiting for the one before only in pipeline mode. Queries sent one at
    // a time are unchanged (each still ends in its own Sync); cursors are refused, and
    // Drover opens none.
    pipeline: true,
    // libpq's PGOPTIONS is kept (pg would read it only when no options are given), so an
    // operator's `-c statement_timeout=…` and the like still apply; the schema comes last.
    options: [process.env.PGOPTIONS, `-c search_path=${schema}`].filter(Boolean).join(' '),
  });
  // An idle connection that PostgreSQL ends (a restart, an administrator, a dropped
  // database) is reported here; without a listener the error would end the process. The
  // pool has already let go of it, and the next query opens a new one.
  pool.on('error', () => undefined);
  const dialect = new DrainingDialect(
    new SchemaScopedPostgresDialect({ pool: preparingPool(pool) }, schema),
  );
  const db = new Kysely<Database>({ dialect, ...statementCounting() });
  // autovacuum keeps PostgreSQL's statistics.
  return {
    db,
    dialect: 'postgres',
    schema,
    url: options.url,
    optimize: () => undefined,
    close: async () => {
      await dialect.drain();
      await db.destroy();
    },
  };
}
