import type { Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/*
 * What a running command says it is doing (OpenJD's `openjd_status: loading assets`), kept
 * per execution: a retry starts without the last try's words, and no claim has to clear
 * them. A task shows its last execution's (src/api/native/tasks.ts). Not indexed: a progress
 * report that carries one changes no indexed column (0021).
 */
export function executionStatusMessageSchema(_dialect: DialectName) {
  async function up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('executions').addColumn('status_message', 'text').execute();
  }
  return { up };
}
