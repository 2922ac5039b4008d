import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import { api, buildOnce, drover, expectRun, submitJob } from './support.js';

/* `drover limit …`, `drover submit --limit` and `drover modify --limits` against a real server. */

for (const database of TEST_DATABASES) {
  describe(`drover limit (${database.name})`, () => {
    let t: TestServer;
    before(async () => {
      await buildOnce();
      t = await startTestServer(database);
    });
    after(async () => {
      await t?.close();
    });

    it('creates, shows, lists, updates and deletes a limit', async () => {
      expectRun(
        await drover(t, ['limit', 'create', 'nuke', '--max', '10', '--description', 'Nuke render']),
        0,
        'limit nuke: 0/10 in use, per task, any node\n  Nuke render\n',
      );
      expectRun(
        await drover(t, [
          'limit',
          'update',
          'nuke',
          '--max',
          '12',
          '--per',
          'machine',
          '--deny',
          'ws1,ws2',
        ]),
        0,
        'limit nuke: 0/12 in use, per machine, not ws1, ws2\n  Nuke render\n',
      );
      const list = await drover(t, ['limit', 'list']);
      expectRun(list, 0, /nuke\s+0\/12\s+MACHINE\s+deny: ws1,ws2\s+Nuke render/);
      const shown = await drover(t, ['limit', 'show', 'nuke', '--json']);
      expectRun(shown, 0);
      assert.equal(JSON.parse(shown.stdout).maxCount, 12);
      expectRun(await drover(t, ['limit', 'update', 'nuke']), 1, '', /give at least one of --max/);
      expectRun(await drover(t, ['limit', 'delete', 'nuke']), 0, 'limit nuke deleted\n');
      expectRun(await drover(t, ['limit', 'show', 'nuke']), 1, '', /limit nuke does not exist/);
    });

    it('jobs name limits at submit and by modify', async () => {
      expectRun(await drover(t, ['limit', 'create', 'maya', '--max', '2']), 0);
      expectRun(await drover(t, ['submit', '--limit', 'maya', '--json', '--', 'echo', 'hi']), 0);
      const job = await submitJob(t, { name: 'later' });
      expectRun(
        await drover(t, ['modify', String(job.id), '--limits', 'maya']),
        0,
        `job ${job.id} modified\n  limits: none → maya\n`,
      );
      assert.deepEqual((await api(t, 'GET', `/jobs/${job.id}`)).limits, ['maya']);
      expectRun(
        await drover(t, ['modify', String(job.id), '--limits', 'none']),
        0,
        `job ${job.id} modified\n  limits: maya → none\n`,
      );
      expectRun(
        await drover(t, ['submit', '--limit', 'unmade', '--', 'echo']),
        1,
        '',
        /limit "unmade" does not exist/,
      );
    });
  });
}
