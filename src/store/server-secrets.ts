import type { Kysely, Transaction } from 'kysely';
import type { Executor } from './database.js';
import type { Database } from './schema.js';

/** Server-wide secrets by name (migration 0003-ufdl). */
export interface ServerSecretsTable {
  name: string;
  value: string;
  created_at: number;
}

interface SecretsDatabase extends Database {
  server_secrets: ServerSecretsTable;
}

const withSecrets = (db: Executor) =>
  db as unknown as Kysely<SecretsDatabase> | Transaction<SecretsDatabase>;

/**
 * The secret of that name; the first caller stores `candidate`. Replicas starting together
 * race on the insert, and every one of them reads back the single row that won.
 */
export async function secretOrStore(
  db: Executor,
  name: string,
  candidate: string,
  now: number,
): Promise<string> {
  const d = withSecrets(db);
  await d
    .insertInto('server_secrets')
    .values({ name, value: candidate, created_at: now })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const row = await d
    .selectFrom('server_secrets')
    .select('value')
    .where('name', '=', name)
    .executeTakeFirstOrThrow();
  return row.value;
}
