import type { Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/*
 * An admin's pools and groups of a node stick (PATCH /api/v1/nodes/:id): `pools_by_admin`
 * and `groups_by_admin` say the lists in `pools_json`/`groups_json` are an admin's, which a
 * worker registering again does not replace. `reported_pools_json`/`reported_groups_json`
 * keep the worker's own lists from its last registration, so that clearing the admin's
 * lists gives the node back what its worker asked for at once. Null there: the node has not
 * registered since this migration, and its current lists are the worker's.
 */
export function nodeMembershipPinsSchema(_dialect: DialectName) {
  async function up(db: Kysely<unknown>): Promise<void> {
    for (const column of ['pools_by_admin', 'groups_by_admin']) {
      await db.schema
        .alterTable('nodes')
        .addColumn(column, 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
    }
    for (const column of ['reported_pools_json', 'reported_groups_json']) {
      await db.schema.alterTable('nodes').addColumn(column, 'text').execute();
    }
  }
  return { up };
}
