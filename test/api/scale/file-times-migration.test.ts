import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Migrator, type Kysely } from 'kysely';
import { openDatabase } from '../../../src/store/database.js';
import { migrateToLatest } from '../../../src/store/migrate.js';
import { initialSchema } from '../../../src/store/migrations/0001-initial.js';
import { scaleSchema } from '../../../src/store/migrations/0002-scale.js';
import { ufdlSchema } from '../../../src/store/migrations/0003-ufdl.js';
import { TEST_DATABASES } from '../../helpers/databases.js';

/*
 * Migration 0005 moves the source and data times of files registered before it out of their
 * properties (ISO text) into the columns the input-file windows filter on, and gives errors
 * their exit code column.
 */

for (const database of TEST_DATABASES) {
  describe(`migration 0005 on existing data (${database.name})`, () => {
    it('fills the file time columns from the properties of older files', async () => {
      const { options, cleanup } = await database.fresh({ empty: true });
      const open = openDatabase({
        url: options.url!,
        ...(options.schema !== undefined ? { schema: options.schema } : {}),
      });
      try {
        if (open.schema !== undefined) {
          await open.db.schema.createSchema(open.schema).ifNotExists().execute();
        }
        const before = new Migrator({
          db: open.db,
          provider: {
            getMigrations: async () => ({
              '0001-initial': initialSchema(open.dialect),
              '0002-scale': scaleSchema(open.dialect),
              '0003-ufdl': ufdlSchema(open.dialect),
            }),
          },
          ...(open.schema !== undefined ? { migrationTableSchema: open.schema } : {}),
        });
        const done = await before.migrateToLatest();
        assert.equal(done.error, undefined);
        const old = open.db as unknown as Kysely<{ files: Record<string, unknown> }>;
        const file = (props: Record<string, unknown>) => ({
          file_name: 'f',
          media_type: 'text/plain',
          file_type: 'SOURCE',
          size: 1,
          sha256: null,
          path: '/f',
          workspace: 'default',
          blob_id: null,
          props_json: JSON.stringify(props),
          created_at: 1,
          last_modified: 1,
          deleted_at: null,
        });
        await old
          .insertInto('files')
          .values([
            file({
              source_started: '2020-01-01T00:00:00Z',
              source_ended: '2020-01-02T00:00:00.500000Z',
              data_ended: '2021-01-01T00:00:00Z',
              source_sensor: 'eye',
            }),
            file({ source_started: 'garbage' }),
            file({}),
          ])
          .execute();

        await migrateToLatest(open);
        const rows = await open.db
          .selectFrom('files')
          .select(['source_started', 'source_ended', 'data_started', 'data_ended'])
          .orderBy('id')
          .execute();
        assert.deepEqual(rows, [
          {
            source_started: Date.UTC(2020, 0, 1),
            source_ended: Date.UTC(2020, 0, 2, 0, 0, 0, 500),
            data_started: null,
            data_ended: Date.UTC(2021, 0, 1),
          },
          { source_started: null, source_ended: null, data_started: null, data_ended: null },
          { source_started: null, source_ended: null, data_started: null, data_ended: null },
        ]);
        const builtin = await open.db
          .selectFrom('errors')
          .select('exit_code')
          .where('is_builtin', '=', 1)
          .execute();
        assert.ok(builtin.length > 0);
        assert.ok(builtin.every((e) => e.exit_code === null));
      } finally {
        await open.close();
        await cleanup();
      }
    });
  });
}
