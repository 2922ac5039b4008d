import { sql } from 'kysely';
import type { DialectName, Executor } from './database.js';

/*
 * Distinct string values a face kept in jobs' dialect JSON: the values of the objects
 * `dialect_json[key][map]` for each of `maps`, over every job that has them. A farm has many
 * jobs but few such values (type names); reading them scans the jobs whose dialect JSON names
 * one of the maps, so only rare requests should ask.
 */

// SQLite evaluates json_each before the WHERE clause: text that is not JSON reads as none.
const VALID = sql`case when json_valid(j.dialect_json) then j.dialect_json else '{}' end`;

export async function dialectMapValuesInUse(
  db: Executor,
  dialect: DialectName,
  key: string,
  maps: readonly string[],
): Promise<string[]> {
  if (maps.length === 0) return [];
  const mentions = (map: string) => sql`j.dialect_json like ${`%${map}%`}`;
  const query =
    dialect === 'postgres'
      ? sql<{ t: string }>`
        select distinct v.value as t
        from jobs j
        cross join lateral (select j.dialect_json::jsonb -> ${key}::text as u) d
        cross join lateral jsonb_each_text(${sql.join(
          maps.map(
            (map) => sql`case when jsonb_typeof(d.u -> ${map}::text) = 'object'
              then d.u -> ${map}::text else '{}'::jsonb end`,
          ),
          sql` || `,
        )}) v
        where ${sql.join(maps.map(mentions), sql` or `)}`
      : sql<{ t: string }>`${sql.join(
          maps.map(
            (map) => sql<{ t: string }>`
            select distinct v.value as t
            from jobs j, json_each(${VALID}, ${`$.${key}.${map}`}) v
            where ${mentions(map)}`,
          ),
          sql` union `,
        )}`;
  const result = await query.execute(db);
  return result.rows.map((r) => r.t).filter((t): t is string => typeof t === 'string');
}

/** The distinct types of every output kept. */
export async function outputTypesInUse(db: Executor): Promise<string[]> {
  const rows = await db.selectFrom('outputs').select('type').distinct().execute();
  return rows.map((r) => r.type).filter((t): t is string => typeof t === 'string');
}
