import { sql } from 'kysely';
import type { DialectName, Executor } from './database.js';

/*
 * The reads /metrics makes: what ended executions were (for the run-time and failure
 * series), the error catalogue's categories, and the nodes' latest telemetry.
 */

export interface EndedExecutionFacts {
  id: number;
  state: string;
  started_at: number | null;
  ended_at: number | null;
  error_name: string | null;
  pool: string;
  job_type: string;
}

/**
 * The executions of `ids` with their job's pool and type, by primary key. The ids go as one
 * value (a JSON array on SQLite, an array on PostgreSQL), so the statement has one text
 * whatever their count: as an `in (?, ?, …)` list of up to 500, each count was a statement
 * of its own for SQLite to prepare (and for its statement cache to hold, in place of the
 * dispatch path's) and for PostgreSQL to parse.
 */
export async function endedExecutionFacts(
  db: Executor,
  dialect: DialectName,
  ids: readonly number[],
): Promise<EndedExecutionFacts[]> {
  if (ids.length === 0) return [];
  return db
    .selectFrom('executions as e')
    .innerJoin('jobs as j', 'j.id', 'e.job_id')
    .innerJoin('job_types as t', 't.id', 'j.job_type_id')
    .select([
      'e.id',
      'e.state',
      'e.started_at',
      'e.ended_at',
      'e.error_name',
      'j.pool',
      't.name as job_type',
    ])
    .where(
      dialect === 'postgres'
        ? sql<boolean>`e.id = any(cast(${[...ids]} as bigint[]))`
        : sql<boolean>`e.id in (select value from json_each(${JSON.stringify(ids)}))`,
    )
    .execute();
}

/** Every error's category: a few dozen rows, the built-ins and what job types registered. */
export async function errorCategories(
  db: Executor,
): Promise<{ name: string; job_type_name: string | null; category: string }[]> {
  return db.selectFrom('errors').select(['name', 'job_type_name', 'category']).execute();
}

/** The latest telemetry of up to `limit` reporting nodes, by name. */
export async function latestNodeTelemetry(
  db: Executor,
  limit: number,
): Promise<{ name: string; telemetry_json: string }[]> {
  const rows = await db
    .selectFrom('nodes')
    .select(['name', 'telemetry_json'])
    .where('state', '=', 'ONLINE')
    .where('telemetry_json', 'is not', null)
    .orderBy('name')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ name: r.name, telemetry_json: r.telemetry_json! }));
}
