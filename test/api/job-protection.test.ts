/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PERMISSIONS } from '../../src/api/authorization/permission-table.js';
import { addUser, createToken } from '../../src/engine/accounts/accounts.js';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startDeadlineTestServer, type DeadlineTestServer } from './deadline/support.js';
import { expectError, expectStatus } from './support.js';

/*
 * A protected job (Deadline's `Protected`, held by the engine) is deleted, purged or archived
 * only by its owner or an admin, whichever face asks: a pool's manager, a wrangler, another
 * user and a node are refused, though the grants let the first two change the job otherwise.
 * Only the owner or an admin sets or clears the flag.
 */

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const basic = (user: string) => `Basic ${Buffer.from(`${user}:${user}-pw`).toString('base64')}`;
const dlId = (id: number) => id.toString(16).padStart(24, '0');

for (const database of TEST_DATABASES) {
  describe(`protected jobs (${database.name})`, () => {
    let t: DeadlineTestServer;
    const h: Record<string, Record<string, string>> = {};
    const OTHERS = ['bob', 'carol', 'dave'] as const;

    before(async () => {
      t = await startDeadlineTestServer(database, { auth: true });
      const ctx = t.engine.ctx;
      await addUser(ctx, 'root', 'admin', 'root-pw');
      for (const name of ['alice', 'bob', 'carol', 'dave']) {
        await addUser(ctx, name, 'user', `${name}-pw`);
      }
      await addUser(ctx, 'render-01', 'node', 'render-01-pw');
      for (const name of ['root', 'alice', 'bob', 'carol', 'dave', 'render-01']) {
        h[name] = bearer(await createToken(ctx, name));
      }
      // bob manages pool comp, carol is a wrangler, dave is nobody in particular.
      expectStatus(
        await t.request('POST', '/api/v1/grants', { user: 'bob', pool: 'comp' }, h.root),
        201,
      );
      expectStatus(
        await t.request('POST', '/api/v1/grants', { user: 'carol', wrangler: true }, h.root),
        201,
      );
    });
    after(async () => {
      await t?.close();
    });

    async function aliceJob(body: Record<string, unknown> = {}): Promise<any> {
      const res = await t.request(
        'POST',
        '/api/v1/jobs',
        { type: 'command-line', parameters: { executable: 'echo' }, pool: 'comp', ...body },
        h.alice,
      );
      return expectStatus(res, 201, 'submit').body;
    }
    const job = async (id: number) =>
      expectStatus(await t.request('GET', `/api/v1/jobs/${id}`, undefined, h.root), 200).body;

    it('the flag is read and set through the native API and Deadline alike', async () => {
      const native = await aliceJob({ protected: true });
      assert.equal(native.protected, true);
      const plain = await aliceJob();
      assert.equal(plain.protected, false);
      const shown = await t.dl('GET', `/api/jobs?JobID=${dlId(native.id)}`, undefined, {
        auth: basic('alice'),
      });
      assert.equal(shown.status, 200, shown.text);
      assert.equal(shown.body[0].Props.Protect, true);

      const sub = await t.dl(
        'POST',
        '/api/jobs',
        {
          JobInfo: { Plugin: 'CommandLine', Name: 'guarded', Protected: 'True', Frames: '1' },
          PluginInfo: { Executable: '/bin/echo' },
          AuxFiles: [],
        },
        { auth: basic('alice') },
      );
      assert.equal(sub.status, 200, sub.text);
      assert.equal((await job(parseInt(sub.body._id, 16))).protected, true);

      // The owner clears it through Deadline's save and sets it again through the native API.
      const [doc] = (
        await t.dl('GET', `/api/jobs?JobID=${sub.body._id}`, undefined, { auth: basic('alice') })
      ).body;
      doc.Props.Protect = false;
      const saved = await t.dl(
        'PUT',
        '/api/jobs',
        { Command: 'save', Job: doc },
        {
          auth: basic('alice'),
        },
      );
      assert.equal(saved.status, 200, saved.text);
      assert.equal((await job(parseInt(sub.body._id, 16))).protected, false);
      const again = await t.request(
        'PATCH',
        `/api/v1/jobs/${parseInt(sub.body._id, 16)}`,
        { protected: true },
        h.alice,
      );
      assert.equal(expectStatus(again, 200).body.protected, true);
      const bad = await t.request(
        'PATCH',
        `/api/v1/jobs/${native.id}`,
        { protected: 'yes' },
        h.alice,
      );
      expectError(bad, 400, 'VALIDATION');
    });

    it('only the owner or an admin sets or clears it, grants or not', async () => {
      const guarded = await aliceJob({ protected: true });
      for (const user of OTHERS) {
        const res = await t.request(
          'PATCH',
          `/api/v1/jobs/${guarded.id}`,
          { protected: false },
          h[user],
        );
        expectError(res, 403, 'FORBIDDEN', user);
        const [doc] = (
          await t.dl('GET', `/api/jobs?JobID=${dlId(guarded.id)}`, undefined, {
            auth: basic(user),
          })
        ).body;
        doc.Props.Protect = false;
        const save = await t.dl(
          'PUT',
          '/api/jobs',
          { Command: 'save', Job: doc },
          {
            auth: basic(user),
          },
        );
        assert.equal(save.status, 403, `${user}: ${save.text}`);
      }
      assert.equal((await job(guarded.id)).protected, true);
      // Sending it unchanged, with other changes the grant allows, is fine.
      const same = await t.request(
        'PATCH',
        `/api/v1/jobs/${guarded.id}`,
        { protected: true, priority: 60 },
        h.bob,
      );
      assert.equal(expectStatus(same, 200).body.priority, 60);
      const plain = await aliceJob();
      expectError(
        await t.request('PATCH', `/api/v1/jobs/${plain.id}`, { protected: true }, h.carol),
        403,
        'FORBIDDEN',
      );
      const byRoot = await t.request(
        'PATCH',
        `/api/v1/jobs/${guarded.id}`,
        { protected: false },
        h.root,
      );
      assert.equal(expectStatus(byRoot, 200).body.protected, false);
    });

    it('a pool manager, a wrangler, another user and a node cannot remove it on any face', async () => {
      const guarded = await aliceJob({ protected: true });
      const plain = await aliceJob();
      for (const user of OTHERS) {
        const del = await t.request('DELETE', `/api/v1/jobs/${guarded.id}`, undefined, h[user]);
        expectError(del, 403, 'FORBIDDEN', user);
        if (user !== 'dave') {
          assert.match(del.body.message, /is protected: only its owner \(alice\) or an admin/);
        }
        // Deadline's bulk delete: the plain job is theirs to delete through a grant, the
        // protected one is not, and a refusal deletes neither.
        const bulk = await t.dl(
          'DELETE',
          `/api/jobs?JobID=${dlId(plain.id)},${dlId(guarded.id)}`,
          undefined,
          { auth: basic(user) },
        );
        assert.equal(bulk.status, 403, `${user}: ${bulk.text}`);
        const archive = await t.dl(
          'PUT',
          '/api/jobs',
          { Command: 'archive', JobID: dlId(guarded.id) },
          { auth: basic(user) },
        );
        assert.equal(archive.status, 403, `${user}: ${archive.text}`);
        // UFDL's delete is an admin's.
        const ufdl = await t.request('DELETE', `/v1/jobs/${guarded.id}`, undefined, h[user]);
        assert.equal(ufdl.status, 403, user);
      }
      expectError(
        await t.request('DELETE', `/api/v1/jobs/${guarded.id}`, undefined, h['render-01']),
        403,
        'FORBIDDEN',
      );
      assert.equal((await job(guarded.id)).deleted, false);
      assert.equal((await job(plain.id)).deleted, false);
      // The grant still reaches the job's other changes.
      expectStatus(
        await t.request('POST', `/api/v1/jobs/${guarded.id}/suspend`, undefined, h.bob),
        200,
      );
      // Scale has no route that removes a job: its bulk commands cancel or requeue.
      assert.deepEqual(
        Object.keys(PERMISSIONS).filter((k) => /^DELETE \/(v6|jobs|job-executions)\b/.test(k)),
        [],
      );
    });

    it('a deleted protected job is purged only by its owner or an admin', async () => {
      const guarded = await aliceJob({ protected: true });
      expectStatus(
        await t.request('DELETE', `/api/v1/jobs/${guarded.id}`, undefined, h.alice),
        204,
      );
      for (const user of ['bob', 'carol']) {
        const purge = await t.request(
          'DELETE',
          `/api/v1/jobs/${guarded.id}?purge=true`,
          undefined,
          h[user],
        );
        expectError(purge, 403, 'FORBIDDEN', user);
        assert.match(purge.body.message, /only its owner \(alice\) or an admin may purge it/);
        const dl = await t.dl(
          'DELETE',
          `/api/jobs?JobID=${dlId(guarded.id)}&Purge=true`,
          undefined,
          {
            auth: basic(user),
          },
        );
        assert.equal(dl.status, 403, `${user}: ${dl.text}`);
      }
      assert.equal((await job(guarded.id)).deleted, true);
      expectStatus(
        await t.request('DELETE', `/api/v1/jobs/${guarded.id}?purge=true`, undefined, h.alice),
        204,
      );
      assert.equal(
        (await t.request('GET', `/api/v1/jobs/${guarded.id}`, undefined, h.root)).status,
        404,
      );
    });

    it('its owner and an admin remove it through every face', async () => {
      const a = await aliceJob({ protected: true });
      const b = await aliceJob({ protected: true });
      const c = await aliceJob({ protected: true });
      const d = await aliceJob({ protected: true });
      const byAlice = await t.dl('DELETE', `/api/jobs?JobID=${dlId(a.id)}`, undefined, {
        auth: basic('alice'),
      });
      assert.equal(byAlice.status, 200, byAlice.text);
      const byRoot = await t.dl('DELETE', `/api/jobs?JobID=${dlId(b.id)}`, undefined, {
        auth: basic('root'),
      });
      assert.equal(byRoot.status, 200, byRoot.text);
      expectStatus(await t.request('DELETE', `/api/v1/jobs/${c.id}`, undefined, h.root), 204);
      expectStatus(await t.request('DELETE', `/v1/jobs/${d.id}`, undefined, h.root), 204);
      for (const j of [a, b, c, d]) assert.equal((await job(j.id)).deleted, true, String(j.id));
    });
  });
}
