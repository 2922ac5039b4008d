import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/*
 * Job schedules (src/domain/job-schedule.ts): the schedule itself as JSON, the time of its
 * next start or stop, and why a suspended job is suspended (SCHEDULE when its schedule's
 * stop did it, so the next start resumes it; null when it was by hand). The reaper finds
 * due schedules by a range scan of next_schedule_at.
 *
 * A job that had a scheduledAt keeps it as a once schedule starting then; SQLite and
 * PostgreSQL both read `text || bigint` as text. Ended jobs follow no schedule.
 */
export function jobSchedulesSchema(_dialect: DialectName) {
  async function up(db: Kysely<unknown>): Promise<void> {
    // One column per statement: SQLite's ALTER TABLE adds one at a time.
    await db.schema.alterTable('jobs').addColumn('schedule_json', 'text').execute();
    await db.schema.alterTable('jobs').addColumn('next_schedule_at', 'bigint').execute();
    await db.schema.alterTable('jobs').addColumn('suspend_reason', 'text').execute();
    await db.schema
      .createIndex('jobs_next_schedule_at')
      .on('jobs')
      .columns(['next_schedule_at', 'id'])
      .execute();
    await sql`
      update jobs
      set schedule_json = '{"kind":"once","start":' || scheduled_at || '}',
          next_schedule_at = case
            when state in ('COMPLETED', 'FAILED', 'CANCELED') then null
            else scheduled_at
          end
      where scheduled_at is not null
    `.execute(db);
  }
  return { up };
}
