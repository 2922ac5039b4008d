import { sql } from 'kysely';
import type { DialectName, Executor } from './database.js';

/*
 * The type strings UFDL's clients gave this installation: the `type` of every input and
 * parameter value a job was created with through UFDL's create-job (kept in the job's
 * dialect JSON, `ufdl.inputTypes` and `ufdl.parameterTypes`), and the type of every output.
 * Distinct values only: a farm has many jobs but few types. Reading them scans the jobs
 * that carry UFDL types; only UFDL's job-types list asks, and it asks rarely.
 */

// SQLite evaluates json_each before the WHERE clause: text that is not JSON reads as none.
const VALID = sql`case when json_valid(j.dialect_json) then j.dialect_json else '{}' end`;

export async function ufdlTypeStringsInUse(db: Executor, dialect: DialectName): Promise<string[]> {
  const query =
    dialect === 'postgres'
      ? sql<{ t: string }>`
        select distinct v.value as t
        from jobs j
        cross join lateral (select j.dialect_json::jsonb -> 'ufdl' as u) d
        cross join lateral jsonb_each_text(
          case when jsonb_typeof(d.u -> 'inputTypes') = 'object' then d.u -> 'inputTypes'
               else '{}'::jsonb end
          || case when jsonb_typeof(d.u -> 'parameterTypes') = 'object'
               then d.u -> 'parameterTypes' else '{}'::jsonb end) v
        where j.dialect_json like '%Types%'
        union
        select distinct o.type as t from outputs o`
      : sql<{ t: string }>`
        select distinct v.value as t
        from jobs j, json_each(${VALID}, '$.ufdl.inputTypes') v
        where j.dialect_json like '%inputTypes%'
        union
        select distinct v.value as t
        from jobs j, json_each(${VALID}, '$.ufdl.parameterTypes') v
        where j.dialect_json like '%parameterTypes%'
        union
        select distinct o.type as t from outputs o`;
  const result = await query.execute(db);
  return result.rows.map((r) => r.t).filter((t): t is string => typeof t === 'string');
}
