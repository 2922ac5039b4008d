import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addUser } from '../../../src/engine/accounts.js';
import { TEST_DATABASES } from '../../helpers/databases.js';
import {
  expectDeadlineError,
  startDeadlineTestServer,
  type DeadlineTestServer,
} from './support.js';

/* Reference §8: optional HTTP Basic authentication mapped to Drover users. */

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

for (const database of TEST_DATABASES) {
  describe(`Deadline: authentication (${database.name})`, () => {
    let t: DeadlineTestServer;
    before(async () => {
      t = await startDeadlineTestServer(database, { auth: true });
      await addUser(t.engine.ctx, 'artist', 'user', 's3cret');
      await addUser(t.engine.ctx, 'render-node', 'node', 'n0de');
    });
    after(async () => {
      await t?.close();
    });

    it('401 with WWW-Authenticate without or with wrong credentials', async () => {
      for (const auth of [
        undefined,
        basic('artist', 'wrong'),
        basic('nobody', 'x'),
        'Bearer abc',
      ]) {
        const res = await t.dl('GET', '/api/jobs', undefined, auth ? { auth } : {});
        expectDeadlineError(res, 401, /Authentication/);
        assert.equal(res.headers.get('www-authenticate'), 'Basic realm="Deadline"');
      }
    });

    it('a Drover user’s password works; jobs are submitted as that user', async () => {
      const auth = basic('artist', 's3cret');
      const res = await t.dl(
        'POST',
        '/api/jobs',
        {
          JobInfo: { Plugin: 'CommandLine', Name: 'mine' },
          PluginInfo: { Executable: '/bin/true' },
          AuxFiles: [],
        },
        { auth },
      );
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.Props.User, 'artist');
      const other = await t.dl(
        'POST',
        '/api/jobs',
        {
          JobInfo: { Plugin: 'CommandLine', UserName: 'boss' },
          PluginInfo: { Executable: '/bin/true' },
          AuxFiles: [],
        },
        { auth },
      );
      expectDeadlineError(other, 400, /another user/);
      const list = await t.dl('GET', '/api/jobs?IdOnly=true', undefined, { auth });
      assert.equal(list.body.length, 1);
    });

    it('node accounts may not use the Web Service', async () => {
      const res = await t.dl('GET', '/api/jobs', undefined, { auth: basic('render-node', 'n0de') });
      expectDeadlineError(res, 403, /node account/);
    });
  });
}
