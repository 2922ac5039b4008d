import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/*
 * Exact counts of the live jobs in each state, kept by the database as jobs are inserted,
 * change state, are deleted (soft or hard) and come back, so that a list that must give an
 * exact total (Scale's, as Django's paginator counts) does not count a million rows for
 * each page. Over 1,000,000 jobs, a Scale page counted 980,000 live jobs in 200 ms on SQLite
 * and 900,000 COMPLETED ones in 56 ms; job-tallies.ts reads a handful of rows instead.
 *
 * SQLite has one writer, so its triggers add to the state's row of job_tallies directly.
 * On PostgreSQL that row would be a hot lock: every transaction that starts or ends a job
 * would wait for the one before it to commit. So its triggers only append rows to
 * job_tally_deltas (appends never wait on one another), readers add the two tables up in
 * one snapshot, and the reaper folds the deltas into job_tallies every tick. The deltas
 * table has no index: an append is one heap row.
 *
 * The update trigger fires only when a job's state or liveness changes: the dispatch path
 * updates a job's counters on every claim and finish without touching either, and its
 * WHEN clause is tested without calling the function. Inserts and deletes are counted per
 * statement on PostgreSQL, so a bulk submit or purge appends one row per state.
 *
 * The index (state, last_modified, id) serves Scale's default order (last_modified) under a
 * status filter. Without it, every FAILED job was sorted for each page (140 ms for 57,000
 * of a million jobs on SQLite; 2.5 s for COMPLETED's 900,000). A job's last_modified
 * changes with its state only (JobsTable), so the index costs the dispatch path nothing.
 */
export function jobTalliesSchema(dialect: DialectName) {
  async function up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('job_tallies')
      .addColumn('state', 'text', (c) => c.primaryKey())
      .addColumn('n', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('job_tally_deltas')
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('n', 'bigint', (c) => c.notNull())
      .execute();
    await sql`insert into job_tallies (state, n)
      select state, count(*) from jobs where deleted_at is null group by state`.execute(db);
    if (dialect === 'sqlite') await sqliteTriggers(db);
    else await postgresTriggers(db);
    await db.schema
      .createIndex('jobs_live_state_modified')
      .on('jobs')
      .columns(['state', 'last_modified', 'id'])
      .where(sql.ref('deleted_at'), 'is', null)
      .execute();
  }
  return { up };
}

async function sqliteTriggers(db: Kysely<unknown>): Promise<void> {
  const add = (state: string) =>
    sql.raw(`insert into job_tallies (state, n)
      select ${state}, 1 where true on conflict (state) do update set n = n + 1`);
  const subtract = (state: string) =>
    sql.raw(`update job_tallies set n = n - 1 where state = ${state}`);
  await sql`create trigger jobs_tally_insert after insert on jobs
    when new.deleted_at is null begin ${add('new.state')}; end`.execute(db);
  await sql`create trigger jobs_tally_delete after delete on jobs
    when old.deleted_at is null begin ${subtract('old.state')}; end`.execute(db);
  // Each half tests its own side: a job may change state and liveness at once.
  await sql`create trigger jobs_tally_leave after update of state, deleted_at on jobs
    when old.deleted_at is null
      and (old.state is not new.state or new.deleted_at is not null)
    begin ${subtract('old.state')}; end`.execute(db);
  await sql`create trigger jobs_tally_enter after update of state, deleted_at on jobs
    when new.deleted_at is null
      and (old.state is not new.state or old.deleted_at is not null)
    begin ${add('new.state')}; end`.execute(db);
}

async function postgresTriggers(db: Kysely<unknown>): Promise<void> {
  await sql`create function drover_tally_inserted() returns trigger language plpgsql as $$
    begin
      insert into job_tally_deltas (state, n)
        select state, count(*) from inserted where deleted_at is null group by state;
      return null;
    end $$`.execute(db);
  await sql`create function drover_tally_deleted() returns trigger language plpgsql as $$
    begin
      insert into job_tally_deltas (state, n)
        select state, -count(*) from deleted where deleted_at is null group by state;
      return null;
    end $$`.execute(db);
  await sql`create function drover_tally_updated() returns trigger language plpgsql as $$
    begin
      if old.deleted_at is null then
        insert into job_tally_deltas (state, n) values (old.state, -1);
      end if;
      if new.deleted_at is null then
        insert into job_tally_deltas (state, n) values (new.state, 1);
      end if;
      return null;
    end $$`.execute(db);
  await sql`create trigger jobs_tally_insert after insert on jobs
    referencing new table as inserted for each statement
    execute function drover_tally_inserted()`.execute(db);
  await sql`create trigger jobs_tally_delete after delete on jobs
    referencing old table as deleted for each statement
    execute function drover_tally_deleted()`.execute(db);
  await sql`create trigger jobs_tally_update after update of state, deleted_at on jobs
    for each row when (old.state is distinct from new.state
      or (old.deleted_at is null) <> (new.deleted_at is null))
    execute function drover_tally_updated()`.execute(db);
}
