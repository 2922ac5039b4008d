import type { Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/*
 * A child job's name in its parent's composite type (the `name` of its entry in
 * definition.children). The job's own name is for people and may be changed; this one ties
 * the child to its entry, which says which siblings' outputs become its inputs. Null for
 * jobs that are no child, and for children made before this migration.
 */
export function jobChildNamesSchema(_dialect: DialectName) {
  async function up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('jobs').addColumn('child_name', 'text').execute();
  }
  return { up };
}
