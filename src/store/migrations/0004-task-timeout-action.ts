import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/*
 * What a job does when a task runs past its task timeout (Deadline's OnTaskTimeout):
 * FAIL (kill it and fail the execution, as before), COMPLETE (kill it and complete the
 * task) or NOTIFY (flag the execution as timed out and let it run). Existing jobs keep
 * failing timed-out tasks.
 */
export function taskTimeoutActionSchema(_dialect: DialectName) {
  async function up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .alterTable('jobs')
      .addColumn('task_timeout_action', 'text', (c) => c.notNull().defaultTo(sql`'FAIL'`))
      .execute();
  }
  return { up };
}
