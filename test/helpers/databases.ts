import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { ManualClock } from '../../src/engine/clock.js';
import { startEngine, type Engine, type EngineOptions } from '../../src/engine/engine.js';
import { JOB_DEFINITION_FORMATS } from '../../src/formats/index.js';

/** The databases every storage, engine and API suite runs against. */
export interface TestDatabase {
  name: 'sqlite' | 'postgres';
  /** Options for a fresh, empty database of this kind; `cleanup` removes it. */
  fresh(): Promise<{ options: Pick<EngineOptions, 'url' | 'schema'>; cleanup(): Promise<void> }>;
}

let counter = 0;

const sqlite: TestDatabase = {
  name: 'sqlite',
  async fresh() {
    const dir = mkdtempSync(join(tmpdir(), 'drover-test-'));
    return {
      options: { url: join(dir, 'drover.sqlite') },
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
};

/** Each test gets its own PostgreSQL schema, so parallel runs never see each other. */
function postgres(url: string): TestDatabase {
  return {
    name: 'postgres',
    async fresh() {
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
