import { sql, type Kysely } from 'kysely';
import { requiredFileOutputs, type JobTypeDefinition } from '../../domain/job-type-definition.js';
import type { DialectName } from '../database.js';

/*
 * Whether a revision's jobs have each finish's outputs judged (a Seed manifest, or a required
 * file output: docs/scheduling.md#output-rules), kept as a column written with the revision.
 * PostgreSQL's finish fast path (store/task-completions.ts) tested it per finished task by
 * searching the revision's definition text for `"pattern"`, which read (and detoasted) the
 * whole definition for every task; now it reads one integer. Existing revisions are judged
 * here as the engine judges new ones.
 */
export function revisionOutputJudgingSchema(_dialect: DialectName) {
  async function up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .alterTable('job_type_revisions')
      .addColumn('judges_outputs', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    const revisions = await sql<{
      id: number;
      definition_json: string;
      manifest_json: string | null;
    }>`select id, definition_json, manifest_json from job_type_revisions`.execute(db);
    const judged = revisions.rows
      .filter((r) => {
        if (r.manifest_json !== null) return true;
        const definition = JSON.parse(r.definition_json) as Pick<JobTypeDefinition, 'outputs'>;
        return requiredFileOutputs(definition).length > 0;
      })
      .map((r) => Number(r.id));
    for (let i = 0; i < judged.length; i += 500) {
      const ids = judged.slice(i, i + 500);
      await sql`update job_type_revisions set judges_outputs = 1
        where id in (${sql.join(ids)})`.execute(db);
    }
  }
  return { up };
}
