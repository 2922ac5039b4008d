import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import { buildOnce, drover, expectRun } from './support.js';

/* `drover pool …` against a real server. */

for (const database of TEST_DATABASES) {
  describe(`drover pool (${database.name})`, () => {
    let t: TestServer;
    before(async () => {
      await buildOnce();
      t = await startTestServer(database);
    });
    after(async () => {
      await t?.close();
    });

    it('sets, shows, lists and forgets a pool', async () => {
      expectRun(
        await drover(t, ['pool', 'set', 'farm', '--mode', 'weighted', '--share', 'bob=2:8']),
        0,
        'pool farm: weighted\n  bob: share 2, 0 running, burst limit 8\n  any other user: share 1, no burst limit\n',
      );
      expectRun(await drover(t, ['pool', 'list']), 0, /farm\s+weighted\s+1/);
      const shown = await drover(t, ['pool', 'show', 'farm', '--json']);
      expectRun(shown, 0);
      assert.equal(JSON.parse(shown.stdout).shares[0].burst, 8);
      expectRun(
        await drover(t, ['pool', 'set', 'farm', '--mode', 'fair']),
        1,
        '',
        /--mode is one of/,
      );
      expectRun(
        await drover(t, ['pool', 'set', 'farm', '--mode', 'weighted', '--share', 'bob']),
        1,
        '',
        /--share is user=share/,
      );
      expectRun(
        await drover(t, ['pool', 'set', 'farm', '--mode', 'balanced', '--share', 'bob=1']),
        1,
        '',
        /shares apply to weighted pools only/,
      );
      expectRun(
        await drover(t, [
          'pool',
          'set',
          'shows',
          '--mode',
          'weighted',
          '--share-by',
          'project',
          '--share',
          'show-a=2:40',
        ]),
        0,
        'pool shows: weighted by project\n  project show-a: share 2, 0 running, burst limit 40\n  any other project: share 1, no burst limit\n',
      );
      expectRun(await drover(t, ['pool', 'list']), 0, /shows\s+weighted by project\s+1/);
      expectRun(
        await drover(t, ['pool', 'set', 'shows', '--mode', 'weighted', '--share-by', 'show']),
        1,
        '',
        /--share-by is user or project/,
      );
      expectRun(await drover(t, ['pool', 'delete', 'farm']), 0, 'pool farm is priority again\n');
      expectRun(await drover(t, ['pool', 'show', 'farm']), 0, 'pool farm: priority\n');
    });

    it('adds, shows, sets, removes and clears path mapping rules', async () => {
      expectRun(
        await drover(t, ['pool', 'path-mapping', 'show', 'render']),
        0,
        'pool render has no path mapping rules\n',
      );
      expectRun(
        await drover(t, ['pool', 'path-mapping', 'add', 'render', '/Volumes/projects', '/mnt/p']),
        0,
        'pool render: path mapping rules\n  0  POSIX    /Volumes/projects  →  /mnt/p\n',
      );
      expectRun(
        await drover(t, ['pool', 'path-mapping', 'add', 'render', 'P:\\projects', '/mnt/p']),
        0,
        /1 {2}WINDOWS {2}P:\\projects {2}→ {2}\/mnt\/p/,
      );
      const shown = await drover(t, ['pool', 'path-mapping', 'show', 'render', '--json']);
      expectRun(shown, 0);
      const doc = JSON.parse(shown.stdout);
      assert.equal(doc.version, 'pathmapping-1.0');
      assert.equal(doc.path_mapping_rules.length, 2);
      // What show --json prints, set --file takes back (and a worker's --path-mapping-rules).
      const file = join(mkdtempSync(join(tmpdir(), 'drover-rules-')), 'rules.json');
      writeFileSync(
        file,
        JSON.stringify({ ...doc, path_mapping_rules: doc.path_mapping_rules.slice(1) }),
      );
      expectRun(
        await drover(t, ['pool', 'path-mapping', 'set', 'render', '--file', file]),
        0,
        /0 {2}WINDOWS/,
      );
      expectRun(
        await drover(t, ['pool', 'path-mapping', 'add', 'render', 'projects', '/mnt/p']),
        1,
        '',
        /source_path must be an absolute POSIX path/,
      );
      expectRun(
        await drover(t, ['pool', 'path-mapping', 'remove', 'render', '3']),
        1,
        '',
        /path mapping rule of pool render 3 does not exist/,
      );
      expectRun(
        await drover(t, ['pool', 'path-mapping', 'remove', 'render', '0']),
        0,
        'pool render has no path mapping rules\n',
      );
      expectRun(
        await drover(t, ['pool', 'path-mapping', 'clear', 'render']),
        0,
        'pool render has no path mapping rules\n',
      );
    });
  });
}
