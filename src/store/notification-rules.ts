import type { Updateable } from 'kysely';
import type { Executor } from './database.js';
import type { NotificationRuleRow, NotificationRulesTable } from './schema.js';

export type NewNotificationRule = Omit<NotificationRulesTable, 'id' | 'enabled'> & {
  enabled: number;
};

export async function insertNotificationRule(
  tx: Executor,
  row: NewNotificationRule,
): Promise<number> {
  const { id } = await tx
    .insertInto('notification_rules')
    .values(row)
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(id);
}

export async function findNotificationRule(
  db: Executor,
  id: number,
): Promise<NotificationRuleRow | undefined> {
  return db.selectFrom('notification_rules').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Rules of one owner (null: the global ones), or every rule when `owner` is undefined. */
export async function listNotificationRules(
  db: Executor,
  owner?: string | null,
): Promise<NotificationRuleRow[]> {
  let query = db.selectFrom('notification_rules').selectAll();
  if (owner === null) query = query.where('owner', 'is', null);
  else if (owner !== undefined) query = query.where('owner', '=', owner);
  return query.orderBy('id').execute();
}

/** Rules of one owner on all their jobs (null: global ones), or on the one job `jobId`. */
export async function countNotificationRules(
  db: Executor,
  owner: string | null,
  jobId?: number,
): Promise<number> {
  let query = db
    .selectFrom('notification_rules')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('owner', owner === null ? 'is' : '=', owner);
  query =
    jobId === undefined ? query.where('job_id', 'is', null) : query.where('job_id', '=', jobId);
  const { n } = await query.executeTakeFirstOrThrow();
  return Number(n);
}

export async function updateNotificationRule(
  tx: Executor,
  id: number,
  patch: Omit<Updateable<NotificationRulesTable>, 'id'>,
): Promise<void> {
  await tx.updateTable('notification_rules').set(patch).where('id', '=', id).execute();
}

/** Deletes the rule; its pending outbox rows go with it (the foreign key cascades). */
export async function deleteNotificationRule(tx: Executor, id: number): Promise<void> {
  await tx.deleteFrom('notification_rules').where('id', '=', id).execute();
}
