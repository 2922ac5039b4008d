import type { Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/*
 * A pool's path mapping rules (docs/workers.md#path-mapping): OpenJD `pathmapping-1.0`
 * rules held by the server for the nodes of a pool, which share one OS and filesystem
 * layout, as the hosts of a Deadline Cloud storage profile do. Each work order carries the
 * rules of its job's pool. Keyed by pool and position: the order is the one the rules were
 * given in, which decides between rules of equal source length. No foreign key to `pools`:
 * a pool keeps its rules whatever its scheduling mode, set or not.
 */
export function poolPathMappingSchema(_dialect: DialectName) {
  async function up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('pool_path_mapping_rules')
      .addColumn('pool', 'text', (c) => c.notNull())
      .addColumn('position', 'integer', (c) => c.notNull())
      .addColumn('source_path_format', 'text', (c) => c.notNull())
      .addColumn('source_path', 'text', (c) => c.notNull())
      .addColumn('destination_path', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('pool_path_mapping_rules_pk', ['pool', 'position'])
      .execute();
  }
  return { up };
}
