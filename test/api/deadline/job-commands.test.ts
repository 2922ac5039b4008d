/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../../helpers/databases.js';
import { submit, tasksOf } from '../support.js';
import {
  commandBody,
  deadlineId,
  type DeadlineTestServer,
  expectDeadlineError,
  expectSuccess,
  nativeJob,
  startDeadlineTestServer,
  submitDeadline,
} from './support.js';

/* Seed: every PUT /api/jobs command, and the errors all PUT requests share. */

for (const database of TEST_DATABASES) {
  describe(`Deadline: job commands (${database.name})`, () => {
    let t: DeadlineTestServer;
    const put = (body: unknown) => t.dl('PUT', '/api/jobs', body);
    const state = async (id: string) => (await nativeJob(t, id)).state;
    before(async () => {
      t = await startDeadlineTestServer(database);
    });
    after(async () => {
      await t?.close();
    });

    it('suspend, resume, pend, releasepending, requeue, complete, fail, resumefailed', async () => {
      const job = await submitDeadline(t, { Name: 'states', Frames: '1-3' });
      const steps: Array<[string, string]> = [
        ['suspend', 'SUSPENDED'],
        ['suspend', 'SUSPENDED'], // already suspended: a success that changes nothing
        ['resume', 'QUEUED'],
        ['pend', 'PENDING'],
        ['releasepending', 'QUEUED'],
        ['complete', 'COMPLETED'],
        ['requeue', 'QUEUED'],
        ['fail', 'FAILED'],
        ['resumefailed', 'QUEUED'],
        ['suspendnonrendering', 'SUSPENDED'],
      ];
      for (const [command, expected] of steps) {
        expectSuccess(await put(commandBody(command, job._id)), command);
        assert.equal(await state(job._id), expected, command);
      }
      const shown = (await t.dl('GET', `/api/jobs?JobID=${job._id}`)).body[0];
      assert.equal(shown.Stat, 2);
      assert.equal(shown.SuspendedChunks, 3);
    });

    it('a command the state forbids is a 500 with a message', async () => {
      const job = await submitDeadline(t, { Name: 'done' });
      expectSuccess(await put(commandBody('complete', job._id)));
      expectDeadlineError(await put(commandBody('suspend', job._id)), 500, /suspend/);
      assert.equal(await state(job._id), 'COMPLETED');
    });

    it('errors shared by every PUT: no body, no Command, unknown command, no JobID, unknown job', async () => {
      const job = await submitDeadline(t, { Name: 'errors' });
      expectDeadlineError(await t.dl('PUT', '/api/jobs'), 400, /no message body/);
      expectDeadlineError(await put({ JobID: job._id }), 400, /Command/);
      expectDeadlineError(await put({ Command: 'explode', JobID: job._id }), 500, /explode/);
      expectDeadlineError(await put({ Command: 'suspend' }), 400, /JobID/);
      expectDeadlineError(
        await put(commandBody('suspend', '0000000000000000000fffff')),
        500,
        /does not correspond/,
      );
      expectDeadlineError(
        await put(commandBody('suspend', 'not-an-id')),
        500,
        /does not correspond/,
      );
    });

    it('updatesubmissiondate moves the job to the back of its priority', async () => {
      const job = await submitDeadline(t, { Name: 'resubmitted' });
      const before = (await t.dl('GET', `/api/jobs?JobID=${job._id}`)).body[0].Date;
      t.clock.advance(60_000);
      expectSuccess(await put(commandBody('updatesubmissiondate', job._id)));
      const after = (await t.dl('GET', `/api/jobs?JobID=${job._id}`)).body[0].Date;
      assert.equal(Date.parse(after) - Date.parse(before), 60_000);
      assert.equal(Date.parse((await nativeJob(t, job._id)).createdAt), Date.parse(after));
    });

    it('the five machine-limit commands', async () => {
      const job = await submitDeadline(t, { Name: 'limits' });
      const get = async () => (await t.dl('GET', `/api/jobs?JobID=${job._id}`)).body[0].Props;
      expectSuccess(
        await put({
          Command: 'setjobmachinelimit',
          JobID: job._id,
          Limit: 3,
          SlaveList: ['a', 'b'],
          WhiteListFlag: true,
          Progress: 50.0,
        }),
      );
      let props = await get();
      assert.equal(props.MachLmt, 3);
      assert.deepEqual(props.ListedSlaves, ['a', 'b']);
      assert.equal(props.White, true);
      assert.equal(props.MachLmtProg, 50);
      assert.deepEqual((await nativeJob(t, job._id)).nodeList, {
        mode: 'ALLOW',
        nodes: ['a', 'b'],
      });

      expectSuccess(
        await put({ Command: 'addslavestojobmachinelimitlist', JobID: job._id, SlaveList: 'c' }),
      );
      assert.deepEqual((await get()).ListedSlaves, ['a', 'b', 'c']);
      expectSuccess(
        await put({
          Command: 'removeslavesfromjobmachinelimitlist',
          JobID: job._id,
          SlaveList: ['a'],
        }),
      );
      assert.deepEqual((await get()).ListedSlaves, ['b', 'c']);
      expectSuccess(
        await put({ Command: 'setjobmachinelimitlistedslaves', JobID: job._id, SlaveList: ['z'] }),
      );
      assert.deepEqual((await get()).ListedSlaves, ['z']);
      expectSuccess(
        await put({
          Command: 'setjobmachinelimitwhitelistflag',
          JobID: job._id,
          WhiteListFlag: false,
        }),
      );
      props = await get();
      assert.equal(props.White, false);
      assert.deepEqual((await nativeJob(t, job._id)).nodeList, { mode: 'DENY', nodes: ['z'] });
      expectSuccess(await put({ Command: 'setjobmachinelimitmaximum', JobID: job._id, Limit: 7 }));
      assert.equal((await nativeJob(t, job._id)).machineLimit, 7);

      expectDeadlineError(
        await put({ Command: 'setjobmachinelimitmaximum', JobID: job._id, Limit: 'x' }),
        400,
        /integer Limit/,
      );
      expectDeadlineError(
        await put({ Command: 'setjobmachinelimitwhitelistflag', JobID: job._id }),
        400,
        /boolean WhiteListFlag/,
      );
      expectDeadlineError(
        await put({ Command: 'addslavestojobmachinelimitlist', JobID: job._id, SlaveList: [] }),
        400,
        /at least one Worker/,
      );
    });

    it('save changes what the job document says', async () => {
      const job = await submitDeadline(t, {
        Name: 'to save',
        Frames: '1-2',
        OnJobComplete: 'Archive',
      });
      const doc = (await t.dl('GET', `/api/jobs?JobID=${job._id}`)).body[0];
      doc.Props.Name = 'saved';
      doc.Props.Pri = 80;
      doc.Props.Ex0 = 'edited';
      doc.Props.MachLmt = 4;
      doc.Props.OnComp = 2;
      doc.Props.Pool = 'farm';
      doc.Props.ListedSlaves = ['w1'];
      doc.Props.White = true;
      expectSuccess(await put({ Command: 'save', Job: doc }));
      const saved = (await t.dl('GET', `/api/jobs?JobID=${job._id}`)).body[0];
      assert.equal(saved.Props.Name, 'saved');
      assert.equal(saved.Props.Pri, 80);
      assert.equal(saved.Props.Ex0, 'edited');
      assert.equal(saved.Props.MachLmt, 4);
      assert.equal(saved.Props.OnComp, 2);
      assert.equal(saved.Props.Pool, 'farm');
      assert.deepEqual(saved.Props.ListedSlaves, ['w1']);
      const native = await nativeJob(t, job._id);
      assert.equal(native.name, 'saved');
      assert.equal(native.priority, 80);
      assert.equal(native.pool, 'farm');
      assert.deepEqual(native.nodeList, { mode: 'ALLOW', nodes: ['w1'] });
      expectDeadlineError(await put({ Command: 'save' }), 400, /no Job entry/);

      // A job of another face keeps showing as its own type after a save.
      const foreign = await submit(t, {
        name: 'native',
        parameters: { executable: 'echo', arguments: ['{start}'] },
      });
      const fdoc = (await t.dl('GET', `/api/jobs?JobID=${deadlineId(foreign.id)}`)).body[0];
      fdoc.Props.Ex3 = 'note';
      expectSuccess(await put({ Command: 'save', Job: fdoc }));
      const fsaved = (await t.dl('GET', `/api/jobs?JobID=${fdoc._id}`)).body[0];
      assert.equal(fsaved.Props.Ex3, 'note');
      assert.equal(fsaved.Plug, 'CommandLine');
      assert.deepEqual(fsaved.Props.PlugInfo, { Executable: 'echo', Arguments: '<STARTFRAME>' });
    });

    it('setjobframerange rebuilds the tasks; appendjobframerange adds tasks', async () => {
      const job = await submitDeadline(t, { Name: 'frames', Frames: '1-4', ChunkSize: 2 });
      expectSuccess(
        await put({
          Command: 'setjobframerange',
          JobID: job._id,
          FrameList: '10-15',
          ChunkSize: 3,
        }),
      );
      let native = await nativeJob(t, job._id);
      assert.equal(native.frames, '10-15');
      assert.equal(native.chunkSize, 3);
      assert.deepEqual(
        (await tasksOf(t, native.id)).map((x: any) => x.frames),
        ['10-12', '13-15'],
      );
      expectSuccess(
        await put({ Command: 'appendjobframerange', JobID: job._id, FrameList: '14-20' }),
      );
      native = await nativeJob(t, job._id);
      assert.deepEqual(
        (await tasksOf(t, native.id)).map((x: any) => x.frames),
        ['10-12', '13-15', '16-18', '19-20'],
      );
      assert.equal(native.tasks.total, 4);
      assert.equal(native.tasks.queued, 4);
      // Appending to a completed job brings it back to the queue.
      expectSuccess(await put(commandBody('complete', job._id)));
      expectSuccess(await put({ Command: 'appendjobframerange', JobID: job._id, FrameList: '30' }));
      native = await nativeJob(t, job._id);
      assert.equal(native.state, 'QUEUED');
      assert.equal(native.tasks.completed, 4);
      assert.equal(native.tasks.queued, 1);
      expectDeadlineError(
        await put({ Command: 'setjobframerange', JobID: job._id, FrameList: '1-x' }),
        400,
        /frame list/,
      );
    });
  });
}
