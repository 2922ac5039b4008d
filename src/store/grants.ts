import type { Executor } from './database.js';
import type { UserGrantRow, UserGrantsTable } from './schema.js';

export interface GrantListRow extends UserGrantRow {
  user_name: string;
}

/** Inserts a grant unless the user already holds it; the grant's id either way. */
export async function insertGrant(tx: Executor, row: Omit<UserGrantsTable, 'id'>): Promise<number> {
  await tx
    .insertInto('user_grants')
    .values(row)
    .onConflict((oc) => oc.columns(['user_id', 'kind', 'pool']).doNothing())
    .execute();
  const found = await tx
    .selectFrom('user_grants')
    .select('id')
    .where('user_id', '=', row.user_id)
    .where('kind', '=', row.kind)
    .where('pool', '=', row.pool)
    .executeTakeFirstOrThrow();
  return Number(found.id);
}

/** The grants one user holds; read on each check, so a revoked grant stops at once. */
export async function grantsOfUser(db: Executor, userId: number): Promise<UserGrantRow[]> {
  return db.selectFrom('user_grants').selectAll().where('user_id', '=', userId).execute();
}

export async function listGrants(db: Executor, userName?: string): Promise<GrantListRow[]> {
  let query = db
    .selectFrom('user_grants as g')
    .innerJoin('users as u', 'u.id', 'g.user_id')
    .selectAll('g')
    .select('u.name as user_name');
  if (userName !== undefined) query = query.where('u.name', '=', userName);
  return query.orderBy('g.id').execute();
}

export async function findGrant(db: Executor, id: number): Promise<GrantListRow | undefined> {
  return db
    .selectFrom('user_grants as g')
    .innerJoin('users as u', 'u.id', 'g.user_id')
    .selectAll('g')
    .select('u.name as user_name')
    .where('g.id', '=', id)
    .executeTakeFirst();
}

export async function deleteGrant(tx: Executor, id: number): Promise<void> {
  await tx.deleteFrom('user_grants').where('id', '=', id).execute();
}
