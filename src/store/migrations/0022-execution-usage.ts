import type { Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/*
 * What each execution used, as its node measured it at the command's end (issue 17): CPU
 * seconds (user + system of the whole task), wall seconds, peak resident memory in bytes,
 * GPU seconds. Null where the node measured nothing (executions before this, a lost node,
 * a machine without a GPU meter).
 */
export function executionUsageSchema(_dialect: DialectName) {
  async function up(db: Kysely<unknown>): Promise<void> {
    for (const [column, type] of [
      ['cpu_seconds', 'double precision'],
      ['wall_seconds', 'double precision'],
      ['peak_memory_bytes', 'bigint'],
      ['gpu_seconds', 'double precision'],
    ] as const) {
      await db.schema.alterTable('executions').addColumn(column, type).execute();
    }
  }
  return { up };
}
