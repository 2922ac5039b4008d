import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/*
 * The claim walks jobs in dispatch order (priority, then submission time) and stops at the
 * first that has work for the node. `jobs_dispatch` leads with the state, so the two
 * dispatchable states were two ranges that had to be merged and sorted, and deleted jobs
 * were read and thrown away. This index holds only the jobs that can hand out work, in
 * the order of the walk; both databases use it for `state in (…) and deleted_at is null
 * order by priority desc, created_at, id` (checked with EXPLAIN). Same SQL on both.
 */
export function dispatchIndexSchema(_dialect: DialectName) {
  async function up(db: Kysely<unknown>): Promise<void> {
    await sql`
      create index jobs_dispatchable on jobs (priority desc, created_at, id)
      where state in ('QUEUED', 'RUNNING') and deleted_at is null
    `.execute(db);
  }
  return { up };
}
