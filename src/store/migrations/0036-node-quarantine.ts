import { sql, type Kysely } from 'kysely';
import { OUTPUT_MISSING_ERROR as E } from '../../domain/error-categories.js';
import type { DialectName } from '../database.js';

/*
 * Farm-wide quarantine (docs/scheduling.md): a node whose failure rate stands out from its
 * peers' is disabled with the reason and the time (`quarantined_at`, `quarantine_reason`);
 * an operator's clearing sets both back to null and writes `quarantine_cleared_at`: the scan
 * counts only what ended after it, so the failures that quarantined it are not judged again. The claim needs nothing new: a quarantined
 * node is a disabled one (`enabled = 0`), which it already leaves out.
 *
 * The scan reads the executions that ended within its window, grouped by node: the partial
 * index `executions_ended` makes that a range read, whatever the history's length.
 *
 * Output rules (docs/scheduling.md#output-rules) fail a task whose declared outputs are
 * missing with the built-in DATA error `output-missing`, seeded here.
 */
export function nodeQuarantineSchema(_dialect: DialectName) {
  async function up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('nodes').addColumn('quarantined_at', 'bigint').execute();
    await db.schema.alterTable('nodes').addColumn('quarantine_reason', 'text').execute();
    await db.schema.alterTable('nodes').addColumn('quarantine_cleared_at', 'bigint').execute();
    await sql`create index executions_ended on executions (ended_at) where ended_at is not null`.execute(
      db,
    );
    const now = Date.now();
    await db
      .insertInto('errors' as never)
      .values({
        name: E.name,
        job_type_name: null,
        title: E.title,
        description: E.description,
        category: E.category,
        is_builtin: 1,
        should_be_retried: E.shouldBeRetried ? 1 : 0,
        created_at: now,
        last_modified: now,
      } as never)
      .execute();
  }
  return { up };
}
