/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../../helpers/databases.js';
import { expectStatus, submit } from '../support.js';
import {
  commandBody,
  deadlineId,
  type DeadlineTestServer,
  expectDeadlineError,
  expectSuccess,
  startDeadlineTestServer,
  submitDeadline,
} from './support.js';

/* Seed: Get All The Jobs, Get Jobs In Specified State, Get All The Job IDs, Get Job. */

for (const database of TEST_DATABASES) {
  describe(`Deadline: getting jobs (${database.name})`, () => {
    let t: DeadlineTestServer;
    let queued: any;
    let suspended: any;
    let completed: any;
    let native: any;
    before(async () => {
      t = await startDeadlineTestServer(database);
      queued = await submitDeadline(t, { Name: 'queued', Frames: '1-4' });
      suspended = await submitDeadline(t, { Name: 'held', InitialStatus: 'Suspended' });
      completed = await submitDeadline(t, { Name: 'done' });
      expectSuccess(await t.dl('PUT', '/api/jobs', commandBody('complete', completed._id)));
      native = await submit(t, { name: 'from native', frames: '1-3', pool: 'gpu' });
    });
    after(async () => {
      await t?.close();
    });

    it('GET / is the plain-text banner', async () => {
      const res = await t.dl('GET', '/');
      assert.equal(res.status, 200);
      assert.match(res.text, /^Deadline Web Service 10\.\d/);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    });

    it('GET /api/jobs returns every job as a JSON array, other faces included', async () => {
      const res = await t.dl('GET', '/api/jobs');
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      assert.ok(Array.isArray(res.body));
      const names = res.body.map((j: any) => j.Props.Name);
      assert.deepEqual(names, ['queued', 'held', 'done', 'from native']);
      const fromNative = res.body[3];
      assert.equal(fromNative._id, deadlineId(native.id));
      assert.equal(fromNative.Plug, 'CommandLine');
      assert.equal(fromNative.Props.Pool, 'gpu');
      assert.equal(fromNative.Props.Grp, 'none');
      assert.equal(fromNative.Props.Tasks, 3);
      assert.equal(fromNative.Props.PlugInfo.Executable, 'echo');
      assert.equal(fromNative.Stat, 1);
    });

    it('the job document has Deadline’s shape, Props order and codes', async () => {
      const res = await t.dl('GET', `/api/jobs?JobID=${queued._id}`);
      assert.equal(res.status, 200);
      assert.equal(res.body.length, 1);
      const job = res.body[0];
      assert.match(job._id, /^[0-9a-f]{24}$/);
      assert.deepEqual(Object.keys(job.Props).slice(0, 14), [
        'Name',
        'Batch',
        'User',
        'Region',
        'Cmmt',
        'Dept',
        'Frames',
        'Chunk',
        'Tasks',
        'Grp',
        'Pool',
        'SecPool',
        'Pri',
        'ReqAss',
      ]);
      for (const key of [
        'MachLmt',
        'ListedSlaves',
        'White',
        'OnComp',
        'Dep',
        'PlugInfo',
        'Env',
        'Ex0',
        'Ex9',
        'ExDic',
      ]) {
        assert.ok(key in job.Props, key);
      }
      assert.equal(job.Props.Frames, '1-4');
      assert.equal(job.Props.Tasks, 4);
      assert.equal(job.Props.Chunk, 1);
      assert.equal(job.Props.Pri, 50);
      assert.equal(job.Props.OnComp, 2);
      assert.equal(job.Props.Timeout, 1);
      assert.equal(job.Props.Schd, 0);
      assert.equal(job.Plug, 'CommandLine');
      assert.equal(job.Stat, 1);
      assert.equal(job.QueuedChunks, 4);
      assert.equal(job.CompletedChunks, 0);
      assert.equal(job.DateStart, '0001-01-01T00:00:00Z');
      assert.equal(job.DateComp, '0001-01-01T00:00:00Z');
      assert.ok(!Number.isNaN(Date.parse(job.Date)));
      assert.equal(job.IsSub, true);
      assert.equal(job.Purged, false);
      assert.equal(job.ExtraElements, null);
    });

    it('?JobID= gives an array even for one id; several ids, raw or percent-encoded', async () => {
      const raw = await t.dl('GET', `/api/jobs?JobID=${queued._id},${completed._id}`);
      assert.deepEqual(
        raw.body.map((j: any) => j.Props.Name),
        ['queued', 'done'],
      );
      const encoded = await t.dl('GET', `/api/jobs?JobID=${queued._id}%2C${completed._id}`);
      assert.deepEqual(
        encoded.body.map((j: any) => j._id),
        raw.body.map((j: any) => j._id),
      );
      const unknown = await t.dl('GET', '/api/jobs?JobID=0000000000000000000fffff');
      assert.deepEqual(unknown.body, []);
    });

    it('?IdOnly=true gives the ids as strings', async () => {
      const res = await t.dl('GET', '/api/jobs?IdOnly=True');
      assert.equal(res.body.length, 4);
      assert.ok(
        res.body.every((id: unknown) => typeof id === 'string' && /^[0-9a-f]{24}$/.test(id)),
      );
      assert.equal(res.body[0], queued._id);
    });

    it('?States= filters by Deadline state; Active covers queued and rendering', async () => {
      const names = async (q: string) =>
        (await t.dl('GET', `/api/jobs?States=${q}`)).body.map((j: any) => j.Props.Name);
      assert.deepEqual(await names('Active'), ['queued', 'from native']);
      assert.deepEqual(await names('Suspended'), ['held']);
      assert.deepEqual(await names('Completed'), ['done']);
      assert.deepEqual(await names('Active,Completed'), ['queued', 'done', 'from native']);
      assert.deepEqual(await names('Failed'), []);
      assert.deepEqual(await names('Pending'), []);
      expectDeadlineError(await t.dl('GET', '/api/jobs?States=Bogus'), 400, /Bogus/);
    });

    it('Stat codes follow the state: 2 suspended, 3 completed', async () => {
      const res = await t.dl('GET', `/api/jobs?JobID=${suspended._id},${completed._id}`);
      assert.deepEqual(
        res.body.map((j: any) => j.Stat),
        [2, 3],
      );
      assert.equal(res.body[1].CompletedChunks, 1);
      assert.notEqual(res.body[1].DateComp, '0001-01-01T00:00:00Z');
    });

    it('the Deadline id and the native id are the same job', async () => {
      const nativeJob = expectStatus(
        await t.request('GET', `/api/v1/jobs/${parseInt(queued._id, 16)}`),
        200,
      ).body;
      assert.equal(nativeJob.name, 'queued');
    });
  });
}
