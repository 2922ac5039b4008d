import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/*
 * Blobs leave the `data` column, which made every upload a buffer of its whole size in the
 * server (issue 12): on SQLite a file named by `file` in the directory beside the database,
 * on PostgreSQL a large object named by `large_object`, which the trigger unlinks with its
 * row, in the same transaction. `data` stays for the rows written before; new rows leave it
 * empty (SQLite cannot drop NOT NULL without rebuilding a table that others reference).
 */
export function blobStorageSchema(dialect: DialectName) {
  async function up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('blobs').addColumn('file', 'text').execute();
    await db.schema.alterTable('blobs').addColumn('large_object', 'bigint').execute();
    if (dialect !== 'postgres') return;
    await sql`
      create function drover_unlink_blob() returns trigger language plpgsql as $$
      begin
        if old.large_object is not null and exists
          (select 1 from pg_largeobject_metadata where oid = old.large_object::oid) then
          perform lo_unlink(old.large_object::oid);
        end if;
        return old;
      end $$`.execute(db);
    await sql`
      create trigger blobs_unlink_large_object after delete on blobs
      for each row execute procedure drover_unlink_blob()`.execute(db);
  }
  return { up };
}
