import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addUser, createToken } from '../../src/engine/accounts.js';
import { TEST_DATABASES } from '../helpers/databases.js';
import { eventually } from '../helpers/eventually.js';
import { startDeadlineTestServer, type DeadlineTestServer } from './deadline/support.js';
import { expectStatus } from './support.js';

/* The audit trail: who changed a job, how, through which face; refusals too. */

const JOB = { type: 'command-line', parameters: { executable: 'echo' }, frames: '1-3' };

for (const database of TEST_DATABASES) {
  describe(`audit trail (${database.name})`, () => {
    let t: DeadlineTestServer;
    let alice: Record<string, string>;
    let bob: Record<string, string>;
    before(async () => {
      t = await startDeadlineTestServer(database, { auth: true });
      await addUser(t.engine.ctx, 'alice', 'user', 'alice-pw');
      await addUser(t.engine.ctx, 'bob', 'user', 'bob-pw');
      alice = { authorization: `Bearer ${await createToken(t.engine.ctx, 'alice')}` };
      bob = { authorization: `Bearer ${await createToken(t.engine.ctx, 'bob')}` };
    });
    after(async () => {
      await t?.close();
    });

    it('records who changed a job, through which face, and shows it by job', async () => {
      const job = expectStatus(await t.request('POST', '/api/v1/jobs', JOB, alice), 201).body;
      const dlId = (job.id as number).toString(16).padStart(24, '0');
      const auth = `Basic ${Buffer.from('alice:alice-pw').toString('base64')}`;
      const suspended = await t.dl(
        'PUT',
        '/api/jobs',
        { Command: 'suspend', JobID: dlId },
        { auth },
      );
      assert.equal(suspended.status, 200, suspended.text);
      expectStatus(await t.request('POST', `/api/v1/jobs/${job.id}/resume`, undefined, alice), 200);
      assert.equal(
        (await t.request('POST', `/api/v1/jobs/${job.id}/cancel`, undefined, bob)).status,
        403,
      );
      // Reads are not recorded.
      expectStatus(await t.request('GET', `/api/v1/jobs/${job.id}`, undefined, bob), 200);

      await eventually(async () => {
        const res = await t.request('GET', `/api/v1/audit?jobId=${job.id}`, undefined, bob);
        const items = expectStatus(res, 200).body.items as Record<string, unknown>[];
        assert.deepEqual(
          items.map((i) => [i.actor, i.face, i.action, i.status]),
          [
            ['bob', 'native', 'cancel', 403],
            ['alice', 'native', 'resume', 200],
            ['alice', 'deadline', 'suspend', 200],
          ],
        );
        assert.equal(items[2]!.summary, 'suspend by alice via deadline');
        assert.equal(items[0]!.summary, 'cancel by bob via native (refused: 403)');
        assert.equal(items[0]!.address, '127.0.0.1');
        assert.match(String(items[0]!.at), /^\d{4}-\d\d-\d\dT/);
      });
      const bad = await t.request('GET', '/api/v1/audit?jobId=zero', undefined, bob);
      assert.equal(bad.status, 400);
    });
  });
}
