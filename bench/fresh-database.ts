import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** The PostgreSQL server the benchmarks create their databases beside. */
export const PG_URL = process.env.DROVER_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * An empty database for one benchmark run: a SQLite file in a temporary data directory, or
 * a new PostgreSQL database beside PG_URL, dropped again by cleanup().
 */
export interface Database {
  url: string;
  dataDir: string;
  cleanup(): Promise<void>;
}

export async function freshDatabase(kind: 'sqlite' | 'postgres'): Promise<Database> {
  const dataDir = mkdtempSync(join(tmpdir(), 'drover-bench-'));
  if (kind === 'sqlite') {
    return {
      url: join(dataDir, 'drover.sqlite'),
      dataDir,
      cleanup: async () => rmSync(dataDir, { recursive: true, force: true }),
    };
  }
  const name = `drover_bench_${randomBytes(6).toString('hex')}`;
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await admin(`create database ${name}`);
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    dataDir,
    async cleanup() {
      await admin(`drop database if exists ${name} with (force)`);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
