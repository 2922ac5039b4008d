import type { Executor } from './database.js';
import type { UserRow, UsersTable } from './schema.js';

export async function insertUser(tx: Executor, row: Omit<UsersTable, 'id'>): Promise<number> {
  const { id } = await tx.insertInto('users').values(row).returning('id').executeTakeFirstOrThrow();
  return Number(id);
}

export async function findUserByName(db: Executor, name: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('name', '=', name).executeTakeFirst();
}

export async function findUser(db: Executor, id: number): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function updateUser(
  tx: Executor,
  id: number,
  patch: Partial<Omit<UsersTable, 'id'>>,
): Promise<void> {
  await tx.updateTable('users').set(patch).where('id', '=', id).execute();
}

export async function listUsers(db: Executor): Promise<UserRow[]> {
  return db.selectFrom('users').selectAll().orderBy('name').execute();
}

export async function countUsers(db: Executor): Promise<number> {
  const row = await db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function insertToken(
  tx: Executor,
  userId: number,
  name: string,
  tokenHash: string,
  now: number,
  expiresAt: number | null = null,
): Promise<number> {
  const { id } = await tx
    .insertInto('api_tokens')
    .values({
      user_id: userId,
      name,
      token_hash: tokenHash,
      created_at: now,
      last_used_at: null,
      expires_at: expiresAt,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(id);
}

export async function findUserByTokenHash(
  db: Executor,
  tokenHash: string,
): Promise<
  | (UserRow & { token_id: number; expires_at: number | null; last_used_at: number | null })
  | undefined
> {
  return db
    .selectFrom('api_tokens as t')
    .innerJoin('users as u', 'u.id', 't.user_id')
    .selectAll('u')
    .select(['t.id as token_id', 't.expires_at', 't.last_used_at'])
    .where('t.token_hash', '=', tokenHash)
    .executeTakeFirst();
}

export async function deleteToken(tx: Executor, id: number): Promise<void> {
  await tx.deleteFrom('api_tokens').where('id', '=', id).execute();
}

export async function touchToken(tx: Executor, id: number, now: number): Promise<void> {
  await tx.updateTable('api_tokens').set({ last_used_at: now }).where('id', '=', id).execute();
}

export interface TokenListRow {
  id: number;
  user_name: string;
  name: string;
  created_at: number;
  last_used_at: number | null;
  expires_at: number | null;
}

export async function listTokens(db: Executor, userName?: string): Promise<TokenListRow[]> {
  let query = db
    .selectFrom('api_tokens as t')
    .innerJoin('users as u', 'u.id', 't.user_id')
    .select([
      't.id',
      'u.name as user_name',
      't.name',
      't.created_at',
      't.last_used_at',
      't.expires_at',
    ]);
  if (userName !== undefined) query = query.where('u.name', '=', userName);
  return query.orderBy('t.id').execute();
}
