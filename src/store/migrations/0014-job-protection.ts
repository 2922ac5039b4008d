import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/*
 * A protected job may be deleted, purged or archived only by its owner or an admin, through
 * any face. Until now only the Deadline face knew the flag, inside the job's dialect JSON
 * (JobInfo `Protected`, or a later `save` of Props.Protect, which wins); those jobs keep
 * their protection. The JSON is read here, once, because a migration never changes after it
 * lands: the face's own reader may.
 */

const TRUE = /^\s*(true|1|yes|on)\s*$/i;

function truthy(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  return typeof value === 'string' && TRUE.test(value);
}

function valueOf(record: unknown, key: string): unknown {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return undefined;
  const found = Object.keys(record).find((k) => k.toLowerCase() === key.toLowerCase());
  return found === undefined ? undefined : (record as Record<string, unknown>)[found];
}

/** Whether a job's dialect JSON says the Deadline face protected it. */
export function protectedInDialect(dialectJson: string): boolean {
  let dialect: unknown;
  try {
    dialect = JSON.parse(dialectJson);
  } catch {
    return false;
  }
  const deadline = valueOf(dialect, 'deadline');
  const saved = valueOf(valueOf(deadline, 'props'), 'Protect');
  return truthy(saved !== undefined ? saved : valueOf(valueOf(deadline, 'jobInfo'), 'Protected'));
}

export function jobProtectionSchema(_dialect: DialectName) {
  async function up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .alterTable('jobs')
      .addColumn('protected', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    const rows = await sql<{ id: number; dialect_json: string }>`
      select id, dialect_json from jobs where lower(dialect_json) like '%protect%'`.execute(db);
    const ids = rows.rows.filter((r) => protectedInDialect(r.dialect_json)).map((r) => r.id);
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      await sql`update jobs set "protected" = 1 where id in (${sql.join(chunk)})`.execute(db);
    }
  }
  return { up };
}
