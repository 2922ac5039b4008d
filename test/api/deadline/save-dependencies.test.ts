/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DroverEvent } from '../../../src/engine/events/events.js';
import { TEST_DATABASES } from '../../helpers/databases.js';
import { acquire, register, submit } from '../support.js';
import {
  commandBody,
  deadlineId,
  type DeadlineTestServer,
  expectDeadlineError,
  expectSuccess,
  idNumber,
  nativeJob,
  startDeadlineTestServer,
  submitDeadline,
} from './support.js';

/*
 * PUT /api/jobs {"Command":"save"} with Props.Dep and Props.PlugInfo edited: the job's
 * dependencies and its command-line parameters change in the engine, seen by every face.
 */

for (const database of TEST_DATABASES) {
  describe(`Deadline: save changes Dep and PlugInfo (${database.name})`, () => {
    let t: DeadlineTestServer;
    const put = (body: unknown) => t.dl('PUT', '/api/jobs', body);
    const doc = async (id: string) => (await t.dl('GET', `/api/jobs?JobID=${id}`)).body[0];
    before(async () => {
      t = await startDeadlineTestServer(database);
    });
    after(async () => {
      await t?.close();
    });

    it('a Dep added through save pends the job; its completion or another save releases it', async () => {
      const first = await submitDeadline(t, { Name: 'first' });
      const job = await submitDeadline(t, { Name: 'second', Frames: '1-2' });
      let saved = await doc(job._id);
      assert.equal(saved.Stat, 1);
      assert.deepEqual(saved.Props.Dep, []);

      // The shape GET shows, and a workers list changed in the same save.
      saved.Props.Dep = [{ JobID: first._id, Notes: '', IgnoreFrameOffsets: false }];
      saved.Props.ListedSlaves = ['w1'];
      expectSuccess(await put({ Command: 'save', Job: saved }));
      saved = await doc(job._id);
      assert.equal(saved.Stat, 6, 'Pending');
      assert.equal(saved.PendingChunks, 2);
      assert.deepEqual(saved.Props.Dep, [
        { JobID: first._id, Notes: '', IgnoreFrameOffsets: false },
      ]);
      assert.deepEqual(saved.Props.ListedSlaves, ['w1']);
      let native = await nativeJob(t, job._id);
      assert.equal(native.state, 'PENDING');
      assert.equal(native.pendReason, 'DEPENDENCIES');
      assert.deepEqual(native.dependencies, [idNumber(first._id)]);

      // The dependency completes: released, as for a Dep given at submission.
      expectSuccess(await put(commandBody('complete', first._id)));
      assert.equal((await doc(job._id)).Stat, 1);

      // A plain list of ids: a 24-hex _id and a decimal native id.
      const other = await submitDeadline(t, { Name: 'other' });
      const native2 = await submit(t, { name: 'native dependency' });
      saved = await doc(job._id);
      saved.Props.Dep = [other._id, String(native2.id)];
      expectSuccess(await put({ Command: 'save', Job: saved }));
      native = await nativeJob(t, job._id);
      assert.equal(native.state, 'PENDING');
      assert.deepEqual(
        native.dependencies,
        [idNumber(other._id), native2.id].sort((a, b) => a - b),
      );
      assert.deepEqual(
        (await doc(job._id)).Props.Dep.map((d: any) => d.JobID),
        [other._id, deadlineId(native2.id)].sort(),
      );

      // Back to the completed one alone: released at once.
      saved = await doc(job._id);
      saved.Props.Dep = [first._id];
      expectSuccess(await put({ Command: 'save', Job: saved }));
      saved = await doc(job._id);
      assert.equal(saved.Stat, 1);
      assert.equal(saved.QueuedChunks, 2);
      native = await nativeJob(t, job._id);
      assert.equal(native.state, 'QUEUED');
      assert.deepEqual(native.dependencies, [idNumber(first._id)]);
    });

    it('a save whose Dep is unchanged leaves the dependencies alone', async () => {
      const a = await submitDeadline(t, { Name: 'a' });
      const b = await submitDeadline(t, { Name: 'b' });
      const job = await submitDeadline(t, {
        Name: 'waits',
        JobDependencies: `${a._id},${b._id}`,
      });
      const seen: DroverEvent[] = [];
      const unsubscribe = t.engine.ctx.bus.subscribe((event) => seen.push(event));
      try {
        // As fetched, then in another form and order: the same list both times.
        const saved = await doc(job._id);
        saved.Props.Name = 'renamed';
        expectSuccess(await put({ Command: 'save', Job: saved }));
        saved.Props.Dep = `${b._id},${idNumber(a._id)}`;
        saved.Props.Cmmt = 'marker';
        expectSuccess(await put({ Command: 'save', Job: saved }));
        const deadline = Date.now() + 3000;
        while (!seen.some((e) => e.type === 'job.updated' && e.fields.includes('comment'))) {
          assert.ok(Date.now() < deadline, 'the marker event arrives');
          await new Promise((r) => setTimeout(r, 20));
        }
        const updates = seen.filter((e) => e.type === 'job.updated');
        assert.ok(updates.length >= 2);
        assert.ok(
          updates.every((e) => e.type === 'job.updated' && !e.fields.includes('dependencies')),
          JSON.stringify(updates),
        );
      } finally {
        unsubscribe();
      }
      const native = await nativeJob(t, job._id);
      assert.equal(native.name, 'renamed');
      assert.equal(native.state, 'PENDING');
      assert.deepEqual(native.dependencies, [idNumber(a._id), idNumber(b._id)]);
    });

    it('bad Dep entries, unknown jobs, the job itself and cycles are 400; nothing is saved', async () => {
      const a = await submitDeadline(t, { Name: 'dep a' });
      const b = await submitDeadline(t, { Name: 'dep b', JobDependencies: a._id });
      const cases: Array<[unknown, RegExp]> = [
        [['not-an-id'], /Props\.Dep holds "not-an-id", which is not a job ID/],
        [[{ Notes: 'no id' }], /Props\.Dep holds an entry without a JobID/],
        [[deadlineId(999999)], /dependencies refer to jobs that do not exist: 999999/],
        [[a._id], new RegExp(`cannot depend on itself \\(job ${idNumber(a._id)}\\)`)],
        [
          [{ JobID: b._id }],
          new RegExp(
            `cycle: job ${idNumber(a._id)} would wait on job ${idNumber(b._id)}, which waits on job ${idNumber(a._id)}`,
          ),
        ],
      ];
      for (const [dep, pattern] of cases) {
        const saved = await doc(a._id);
        saved.Props.Dep = dep;
        saved.Props.Name = 'must not be saved';
        expectDeadlineError(await put({ Command: 'save', Job: saved }), 400, pattern);
      }
      const after = await doc(a._id);
      assert.equal(after.Props.Name, 'dep a');
      assert.deepEqual(after.Props.Dep, []);
      assert.equal(after.Stat, 1);
    });

    it('a PlugInfo change reaches the tasks started afterwards', async () => {
      const job = await submitDeadline(
        t,
        { Name: 'plug', Frames: '1-2', Priority: 100 },
        { Executable: '/bin/echo', Arguments: 'old <STARTFRAME>' },
      );
      const node = await register(t, 'plug-node', { slots: 2 });
      const firstOrder = await acquire(t, node.id);
      assert.equal(firstOrder.job.id, idNumber(job._id));
      assert.deepEqual(firstOrder.job.parameters, {
        executable: '/bin/echo',
        arguments: ['old', '{start}'],
      });

      const saved = await doc(job._id);
      saved.Props.PlugInfo = {
        Executable: '/bin/printf',
        Arguments: '<QUOTE>new %s<QUOTE> <STARTFRAME%3>',
      };
      expectSuccess(await put({ Command: 'save', Job: saved }));
      const shown = await doc(job._id);
      assert.deepEqual(shown.Props.PlugInfo, {
        Executable: '/bin/printf',
        Arguments: '<QUOTE>new %s<QUOTE> <STARTFRAME%3>',
      });
      assert.equal(shown.Plug, 'CommandLine');
      assert.deepEqual((await nativeJob(t, job._id)).parameters, {
        executable: '/bin/printf',
        arguments: ['new %s', '{start:03}'],
      });

      // The next task runs the new command line; the one already handed out is not touched.
      const secondOrder = await acquire(t, node.id);
      assert.equal(secondOrder.job.id, idNumber(job._id));
      assert.notEqual(secondOrder.task.id, firstOrder.task.id);
      assert.deepEqual(secondOrder.job.parameters, {
        executable: '/bin/printf',
        arguments: ['new %s', '{start:03}'],
      });
      assert.deepEqual(secondOrder.jobType.definition.command, [
        '{param.executable}',
        '{param.arguments...}',
      ]);
      const tasks = (await t.request('GET', `/api/v1/jobs/${idNumber(job._id)}/tasks`)).body.items;
      assert.deepEqual(
        tasks.map((x: any) => x.state),
        ['RUNNING', 'RUNNING'],
      );

      // A PlugInfo the CommandLine plugin cannot run is refused and changes nothing.
      const bad = await doc(job._id);
      bad.Props.PlugInfo = { Arguments: 'no executable' };
      expectDeadlineError(await put({ Command: 'save', Job: bad }), 400, /Executable/);
      bad.Props.PlugInfo = 'Executable=/bin/true';
      expectDeadlineError(
        await put({ Command: 'save', Job: bad }),
        400,
        /PlugInfo must be an object/,
      );
      assert.equal((await nativeJob(t, job._id)).parameters.executable, '/bin/printf');
    });

    it('a job of another face takes a saved PlugInfo as its parameters and shows them back', async () => {
      const job = await submit(t, {
        name: 'native plug',
        parameters: { executable: 'echo', arguments: ['{start}'] },
      });
      const saved = await doc(deadlineId(job.id));
      assert.deepEqual(saved.Props.PlugInfo, { Executable: 'echo', Arguments: '<STARTFRAME>' });
      saved.Props.PlugInfo = { Executable: 'echo', Arguments: 'frame <STARTFRAME> of <ENDFRAME>' };
      expectSuccess(await put({ Command: 'save', Job: saved }));
      const native = await nativeJob(t, deadlineId(job.id));
      assert.deepEqual(native.parameters, {
        executable: 'echo',
        arguments: ['frame', '{start}', 'of', '{end}'],
      });
      const shown = await doc(deadlineId(job.id));
      assert.deepEqual(shown.Props.PlugInfo, {
        Executable: 'echo',
        Arguments: 'frame <STARTFRAME> of <ENDFRAME>',
      });
      assert.equal(shown.Plug, 'CommandLine');
    });
  });
}
