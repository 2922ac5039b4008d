import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { ManualClock } from '../../src/engine/clock.js';
import { startEngine, type Engine, type EngineOptions } from '../../src/engine/engine.js';
import { JOB_DEFINITION_FORMATS } from '../../src/formats/index.js';
import { openDatabase } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { takePooledSchema } from './postgres-schema-pool.js';

/** The databases every storage, engine and API suite runs against. */
export interface TestDatabase {
  name: 'sqlite' | 'postgres';
  /**
   * Options for a fresh database of this kind for an engine to open; `empty` asks for one
   * with no schema yet (the suites that test migrations themselves). SQLite's comes up to
   * date unless empty (a copy of a migrated file, or a pooled PostgreSQL schema emptied to
   * what the migrations left). `cleanup` removes it, or gives the schema back to the pool.
   */
  fresh(options?: {
    empty?: boolean;
  }): Promise<{ options: Pick<EngineOptions, 'url' | 'schema'>; cleanup(): Promise<void> }>;
}

let counter = 0;

/*
 * A fresh SQLite database is a copy of a file migrated once per test run (per version of
 * the migrations): migrating took ~0.3 s of each of the several hundred engines the suites
 * start, copying takes a millisecond (an engine's start fell from ~320 to ~70 ms). On
 * PostgreSQL a copy (CREATE DATABASE … TEMPLATE, then DROP DATABASE, which forces a
 * checkpoint) cost as much as migrating a fresh schema, measured on the CI machine; a
 * migrated schema is instead emptied and used again (./postgres-schema-pool.ts).
 */
const SOURCES = join(import.meta.dirname, '..', '..', 'src', 'store');
const MIGRATIONS_HASH = (() => {
  const hash = createHash('sha256');
  const dir = join(SOURCES, 'migrations');
  for (const name of readdirSync(dir).sort())
    hash.update(name).update(readFileSync(join(dir, name)));
  hash.update(readFileSync(join(SOURCES, 'migrate.ts')));
  return hash.digest('hex').slice(0, 12);
})();

async function migrate(url: string, schema?: string): Promise<void> {
  const open = openDatabase(schema === undefined ? { url } : { url, schema });
  try {
    await migrateToLatest(open);
  } finally {
    await open.close();
  }
}

/** The migrated SQLite file of this run, built by the first suite that asks. */
let sqliteTemplate: Promise<string> | undefined;
function sqliteTemplateFile(): Promise<string> {
  sqliteTemplate ??= (async () => {
    const file = join(tmpdir(), `drover-test-template-${MIGRATIONS_HASH}.sqlite`);
    if (existsSync(file)) return file;
    // Built beside it and renamed into place, so that a suite starting meanwhile in another
    // process never copies half a file.
    const dir = mkdtempSync(join(tmpdir(), 'drover-template-'));
    try {
      await migrate(join(dir, 'drover.sqlite'));
      renameSync(join(dir, 'drover.sqlite'), file);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return file;
  })();
  return sqliteTemplate;
}

const sqlite: TestDatabase = {
  name: 'sqlite',
  async fresh({ empty = false } = {}) {
    const dir = mkdtempSync(join(tmpdir(), 'drover-test-'));
    const url = join(dir, 'drover.sqlite');
    if (!empty) copyFileSync(await sqliteTemplateFile(), url);
    return {
      options: { url },
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
};

/** PostgreSQL: each test gets a schema of its own, so parallel runs never see each other. */
function postgres(url: string): TestDatabase {
  return {
    name: 'postgres',
    async fresh({ empty = false } = {}) {
      if (!empty) {
        const { schema, release } = await takePooledSchema(url, MIGRATIONS_HASH, (name) =>
          migrate(url, name),
        );
        return { options: { url, schema }, cleanup: release };
      }
      // The suites of the migrator itself: the engine that opens it migrates it.
      const schema = `t_${process.pid}_${Date.now().toString(36)}_${counter++}`;
      return {
        options: { url, schema },
        cleanup: async () => {
          const client = new pg.Client({ connectionString: url });
          await client.connect();
          await client.query(`drop schema if exists "${schema}" cascade`);
          await client.end();
        },
      };
    },
  };
}

export const TEST_DATABASES: TestDatabase[] = [
  sqlite,
  ...(process.env.DROVER_TEST_PG ? [postgres(process.env.DROVER_TEST_PG)] : []),
];

export interface TestEngine {
  engine: Engine;
  clock: ManualClock;
  close(): Promise<void>;
}

/** A started engine on a fresh database with a hand-moved clock; no reaper timer. */
export async function startTestEngine(
  database: TestDatabase,
  options: Partial<EngineOptions> = {},
): Promise<TestEngine> {
  const { options: db, cleanup } = await database.fresh();
  const clock = new ManualClock();
  const engine = await startEngine({
    ...db,
    clock: clock.read,
    formats: JOB_DEFINITION_FORMATS,
    ...options,
  });
  return {
    engine,
    clock,
    async close() {
      await engine.close();
      await cleanup();
    },
  };
}

/**
 * Runs `race` with the replicas that claim at once: on PostgreSQL the test's engine and
 * three more on its schema and clock, each with its own transactions; on SQLite (one
 * writer) the test's engine alone. The extra replicas are closed afterwards.
 */
export async function withRacingReplicas<T>(
  t: TestEngine,
  race: (replicas: readonly Engine[]) => Promise<T>,
): Promise<T> {
  const replicas: Engine[] = [t.engine];
  try {
    if (t.engine.ctx.dialect === 'postgres') {
      for (let i = 0; i < 3; i++) {
        replicas.push(
          await startEngine({
            url: t.engine.database.url,
            schema: t.engine.database.schema!,
            clock: t.clock.read,
            formats: JOB_DEFINITION_FORMATS,
          }),
        );
      }
    }
    return await race(replicas);
  } finally {
    for (const r of replicas.slice(1)) await r.close();
  }
}
