import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addUser, setPassword } from '../../../src/engine/accounts/accounts.js';
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

    /** The password hashes this process has computed, from /metrics. */
    async function passwordChecks(): Promise<number> {
      const res = await t.request('GET', '/metrics');
      const line = /^drover_password_checks_total (\d+)$/m.exec(String(res.body));
      assert.ok(line, 'drover_password_checks_total in /metrics');
      return Number(line[1]);
    }

    it('repeated Basic logins cost one password hash; a changed password is refused at once', async () => {
      await addUser(t.engine.ctx, 'wrangler', 'user', 'first-pw');
      const old = { auth: basic('wrangler', 'first-pw') };
      const before = await passwordChecks();
      for (let i = 0; i < 5; i++) {
        assert.equal((await t.dl('GET', '/api/jobs?IdOnly=true', undefined, old)).status, 200);
      }
      assert.equal(await passwordChecks(), before + 1);

      // As `drover user passwd` does, straight in the database (it may be another process).
      await setPassword(t.engine.ctx, 'wrangler', 'second-pw');
      const refused = await t.dl('GET', '/api/jobs?IdOnly=true', undefined, old);
      expectDeadlineError(refused, 401, /Authentication/);
      const fresh = { auth: basic('wrangler', 'second-pw') };
      assert.equal((await t.dl('GET', '/api/jobs?IdOnly=true', undefined, fresh)).status, 200);
      assert.equal((await t.dl('GET', '/api/jobs?IdOnly=true', undefined, old)).status, 401);
    });
  });
}
