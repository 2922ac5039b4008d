import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addUser, createToken } from '../../src/engine/accounts/accounts.js';
import { auditEventsOf, recordJobAuditEvents } from '../../src/engine/accounts/audit-trail.js';
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

    /** The job's history as [actor, face, action, status], newest first. */
    const historyOf = async (id: number) => {
      const res = await t.request('GET', `/api/v1/audit?jobId=${id}`, undefined, alice);
      const items = expectStatus(res, 200).body.items as Record<string, unknown>[];
      return items.map((i) => [i.actor, i.face, i.action, i.status]);
    };

    it("records Scale's bulk commands, task actions and Deadline's lists on each job", async () => {
      const ids: number[] = [];
      for (let i = 0; i < 3; i++) {
        ids.push(expectStatus(await t.request('POST', '/api/v1/jobs', JOB, alice), 201).body.id);
      }
      // Bob may change none of them: his bulk cancel changes nothing and names no job.
      expectStatus(
        await t.request('POST', '/v6/jobs/cancel/', { job_ids: ids, status: 'QUEUED' }, bob),
        202,
      );
      expectStatus(
        await t.request('POST', '/v6/jobs/cancel/', { job_ids: ids, status: 'QUEUED' }, alice),
        202,
      );
      await eventually(async () => {
        for (const id of ids) {
          assert.deepEqual(await historyOf(id), [['alice', 'scale', 'cancel', 202]]);
        }
      });
      const line = expectStatus(
        await t.request('GET', `/api/v1/audit?jobId=${ids[0]}`, undefined, alice),
        200,
      ).body.items[0];
      assert.equal(line.summary, 'cancel by alice via scale');
      assert.equal(line.path, '/v6/jobs/cancel/');
      // Requeue (with a filter that leaves one job out).
      expectStatus(
        await t.request('POST', '/v6/jobs/requeue/', { job_ids: ids.slice(0, 2) }, alice),
        202,
      );
      await eventually(async () => {
        for (const id of ids.slice(0, 2)) {
          assert.deepEqual((await historyOf(id))[0], ['alice', 'scale', 'requeue', 202]);
        }
      });
      assert.equal((await historyOf(ids[2]!)).length, 1);

      // A task's action is the job's history too, refused or not.
      const tasks = expectStatus(
        await t.request('GET', `/api/v1/jobs/${ids[0]}/tasks`, undefined, alice),
        200,
      ).body.items as Array<{ id: number }>;
      expectStatus(
        await t.request('POST', `/api/v1/tasks/${tasks[0]!.id}/suspend`, undefined, alice),
        200,
      );
      expectStatus(
        await t.request('POST', `/api/v1/tasks/${tasks[0]!.id}/resume`, undefined, bob),
        403,
      );
      // Deadline's delete of a list: each job listed.
      const auth = `Basic ${Buffer.from('alice:alice-pw').toString('base64')}`;
      const list = ids
        .slice(1)
        .map((id) => id.toString(16).padStart(24, '0'))
        .join(',');
      const del = await t.dl('DELETE', `/api/jobs?JobID=${list}`, undefined, { auth });
      assert.equal(del.status, 200, del.text);
      // A save names its job inside the document it sends back.
      const hex = ids[0]!.toString(16).padStart(24, '0');
      const [doc] = (await t.dl('GET', `/api/jobs?JobID=${hex}`, undefined, { auth })).body;
      doc.Props.Pri = 60;
      const saved = await t.dl('PUT', '/api/jobs', { Command: 'save', Job: doc }, { auth });
      assert.equal(saved.status, 200, saved.text);
      await eventually(async () => {
        assert.deepEqual((await historyOf(ids[0]!)).slice(0, 3), [
          ['alice', 'deadline', 'save', 200],
          ['bob', 'native', 'resume', 403],
          ['alice', 'native', 'suspend', 200],
        ]);
        for (const id of ids.slice(1)) {
          assert.deepEqual((await historyOf(id))[0], ['alice', 'deadline', 'delete', 200]);
        }
      });
    });

    it("writes a bulk command's entries a few hundred rows a statement", async () => {
      const ctx = t.engine.ctx;
      // Ids past any real job's: the trail keeps no foreign key, so a purged job's stays.
      const ids = Array.from({ length: 1201 }, (_, i) => 900_000 + i);
      const entry = {
        actor: 'carol',
        role: 'user',
        face: 'scale',
        action: 'cancel',
        method: 'POST',
        path: '/v6/jobs/cancel/',
        address: '127.0.0.1',
        status: 202,
      };
      await recordJobAuditEvents(ctx, entry, ids);
      for (const id of [ids[0]!, ids[500]!, ids[1200]!]) {
        const rows = await auditEventsOf(ctx, { jobId: id, limit: 5 });
        assert.deepEqual(
          rows.map((r) => [r.actor, r.action, r.job_id]),
          [['carol', 'cancel', id]],
        );
      }
      const all = await auditEventsOf(ctx, { limit: 2000 });
      assert.equal(all.filter((r) => r.actor === 'carol').length, 1201);
    });
  });
}
