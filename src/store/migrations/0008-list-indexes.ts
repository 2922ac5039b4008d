import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/*
 * Indexes for job lists over a million jobs (bench/list.ts; src/store/job-list.ts).
 *
 * Lists hide deleted jobs unless asked, so every list filters `deleted_at is null`. The
 * indexes of 0001 hold deleted jobs too, so every row a list skipped or counted cost a
 * table lookup to test deleted_at. These partial indexes hold live jobs only and end in
 * the sort keys (id last: the default order, and the key of cursors), so a page's ids and
 * a capped count come from the index alone: 10,001 entries counted in 4 ms on PostgreSQL
 * and 7 ms on SQLite (21 ms with the lookups). Both databases use a partial index only
 * when the query states its predicate (`deleted_at is null`), which job-list.ts does.
 * Each costs every job insert, and every change of its columns, one more index entry.
 *
 * Job-name search (a case-insensitive substring) gets each database's trigram index:
 * SQLite an FTS5 table with the trigram tokenizer, kept in step with jobs.name by triggers;
 * PostgreSQL pg_trgm's GIN index on lower(name), which serves the LIKE that lists already
 * run. Before, both scanned every name: 670 ms (SQLite) and 1,100 ms (PostgreSQL).
 */
const LIVE_INDEXES: Record<string, string[]> = {
  jobs_live_state: ['state', 'id'],
  jobs_live_user: ['user_name', 'id'],
  jobs_live_pool: ['pool', 'id'],
  jobs_live_group: ['grp', 'id'],
  jobs_live_type: ['job_type_id', 'id'],
  // Time windows, newest first: with only the indexes of 0001, PostgreSQL walked the
  // primary key backwards testing rows (LIMIT 51, matches assumed evenly spread), 730 ms
  // for a one-day window of started_at a year back; from these, 5 ms.
  jobs_live_created: ['created_at', 'id'],
  jobs_live_started: ['started_at', 'id'],
  jobs_live_ended: ['ended_at', 'id'],
  jobs_live_pool_created: ['pool', 'created_at', 'id'],
  // "My finished jobs, most urgent first": without it a user with 100,000 jobs had them
  // all sorted for each page (260 ms on SQLite).
  jobs_live_user_state_priority: ['user_name', 'state', 'priority', 'id'],
};

export function listIndexesSchema(dialect: DialectName) {
  async function up(db: Kysely<unknown>): Promise<void> {
    for (const [name, columns] of Object.entries(LIVE_INDEXES)) {
      await db.schema
        .createIndex(name)
        .on('jobs')
        .columns(columns)
        .where(sql.ref('deleted_at'), 'is', null)
        .execute();
    }
    // jobs_deleted_at (0001) held every job, so `deleted_at is null` looked like a seek to
    // a few rows: SQLite, without statistics, walked 980,000 live jobs through it for a
    // one-day window (363 ms) instead of the created_at range (1 ms). Deleted jobs only
    // now; `deleted_at is null` has the partial indexes above.
    await db.schema.dropIndex('jobs_deleted_at').execute();
    await db.schema
      .createIndex('jobs_deleted')
      .on('jobs')
      .columns(['deleted_at', 'id'])
      .where(sql.ref('deleted_at'), 'is not', null)
      .execute();
    if (dialect === 'sqlite') await sqliteNameSearch(db);
    else await postgresNameSearch(db);
  }
  return { up };
}

/**
 * SQLite: an external-content FTS5 table (it stores the trigram index, not the names) whose
 * rowid is the job id. Its trigram tokenizer folds case, so a MATCH finds every name the
 * LIKE of job-list.ts finds (and a few more with non-ASCII letters, which that LIKE then
 * drops). Triggers keep it in step with jobs; 'rebuild' indexes the jobs already there.
 */
async function sqliteNameSearch(db: Kysely<unknown>): Promise<void> {
  await sql`create virtual table jobs_name_fts using fts5(
    name, content = 'jobs', content_rowid = 'id', tokenize = 'trigram case_sensitive 0')`.execute(
    db,
  );
  await sql`create trigger jobs_name_fts_insert after insert on jobs begin
      insert into jobs_name_fts (rowid, name) values (new.id, new.name);
    end`.execute(db);
  await sql`create trigger jobs_name_fts_delete after delete on jobs begin
      insert into jobs_name_fts (jobs_name_fts, rowid, name) values ('delete', old.id, old.name);
    end`.execute(db);
  await sql`create trigger jobs_name_fts_update after update of name on jobs begin
      insert into jobs_name_fts (jobs_name_fts, rowid, name) values ('delete', old.id, old.name);
      insert into jobs_name_fts (rowid, name) values (new.id, new.name);
    end`.execute(db);
  await sql`insert into jobs_name_fts (jobs_name_fts) values ('rebuild')`.execute(db);
}

/**
 * PostgreSQL: pg_trgm lives in `public`, not in the (per-test) schema being migrated:
 * dropping such a schema would drop the extension and, with it, every other schema's index.
 * A role that may not create it (pg_trgm is trusted: CREATE on the database suffices) gets
 * no index, and name search stays the LIKE scan; a warning says so.
 */
async function postgresNameSearch(db: Kysely<unknown>): Promise<void> {
  await sql`savepoint pg_trgm`.execute(db);
  try {
    await sql`create extension if not exists pg_trgm with schema public`.execute(db);
    await sql`release savepoint pg_trgm`.execute(db);
  } catch (error) {
    // Another migration may have created it at the same moment; look before giving up.
    await sql`rollback to savepoint pg_trgm`.execute(db);
    if ((await trigramSchema(db)) === undefined) {
      process.emitWarning(
        `pg_trgm could not be created (${(error as Error).message}): job-name search scans the jobs table`,
        { code: 'DROVER_NO_PG_TRGM' },
      );
      return;
    }
  }
  const schema = await trigramSchema(db);
  if (schema === undefined) return;
  await sql`create index jobs_name_trgm on jobs
    using gin (lower(name) ${sql.id(schema)}.gin_trgm_ops)`.execute(db);
}

async function trigramSchema(db: Kysely<unknown>): Promise<string | undefined> {
  const result = await sql<{ schema: string }>`
    select n.nspname as schema from pg_extension e
    join pg_namespace n on n.oid = e.extnamespace where e.extname = 'pg_trgm'`.execute(db);
  return result.rows[0]?.schema;
}
