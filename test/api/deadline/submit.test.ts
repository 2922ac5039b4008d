/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../../helpers/databases.js';
import {
  expectDeadlineError,
  idNumber,
  nativeJob,
  startDeadlineTestServer,
  submitDeadline,
  type DeadlineTestServer,
} from './support.js';

/* Seed: Submit Job (JobInfo, PluginInfo, AuxFiles, IdOnly) and the multi-job form. */

for (const database of TEST_DATABASES) {
  describe(`Deadline: submitting jobs (${database.name})`, () => {
    let t: DeadlineTestServer;
    before(async () => {
      t = await startDeadlineTestServer(database);
    });
    after(async () => {
      await t?.close();
    });

    it('SubmitJob with typed values returns the job; the engine holds what it says', async () => {
      const job = await submitDeadline(
        t,
        {
          Name: 'typed',
          Frames: '1-10',
          ChunkSize: 3,
          Priority: 70,
          Pool: 'none',
          Group: 'gpu',
          Comment: 'a comment',
          Department: 'fx',
          BatchName: 'batch A',
          MachineLimit: 2,
          Whitelist: 'node-a,node-b',
          TaskTimeoutMinutes: 2,
          ExtraInfo0: 'shot010',
          ExtraInfoKeyValue0: 'seq=sq01',
          EnvironmentKeyValue0: 'FOO=bar',
          OutputDirectory0: '/out',
          UsingRenderLayers: true,
          StudioKey: 'kept',
        },
        { Executable: '/bin/echo', Arguments: '-s <STARTFRAME%4> -e <ENDFRAME> "two words"' },
        { AuxFiles: ['/tmp/scene.ma'] },
      );
      assert.match(job._id, /^[0-9a-f]{24}$/);
      assert.equal(job.Props.Name, 'typed');
      assert.equal(job.Props.Tasks, 4);
      assert.equal(job.Props.Chunk, 3);
      assert.equal(job.Props.Pri, 70);
      assert.equal(job.Props.Pool, 'none');
      assert.equal(job.Props.Grp, 'gpu');
      assert.equal(job.Props.Batch, 'batch A');
      assert.equal(job.Props.MachLmt, 2);
      assert.deepEqual(job.Props.ListedSlaves, ['node-a', 'node-b']);
      assert.equal(job.Props.White, true);
      assert.equal(job.Props.MaxTime, 120);
      assert.equal(job.Props.Ex0, 'shot010');
      assert.deepEqual(job.Props.ExDic, { seq: 'sq01' });
      assert.deepEqual(job.Props.Env, { FOO: 'bar' });
      assert.deepEqual(job.OutDir, ['/out']);
      assert.deepEqual(job.Aux, ['scene.ma']);
      assert.deepEqual(job.Props.PlugInfo, {
        Executable: '/bin/echo',
        Arguments: '-s <STARTFRAME%4> -e <ENDFRAME> "two words"',
      });
      assert.deepEqual(job.ExtraElements, { UsingRenderLayers: true, StudioKey: 'kept' });

      const native = await nativeJob(t, job._id);
      assert.equal(native.type.name, 'command-line');
      assert.deepEqual(native.parameters, {
        executable: '/bin/echo',
        arguments: ['-s', '{start:04}', '-e', '{end}', 'two words'],
      });
      assert.equal(native.priority, 70);
      assert.equal(native.group, 'gpu');
      assert.equal(native.pool, '');
      assert.equal(native.machineLimit, 2);
      assert.deepEqual(native.nodeList, { mode: 'ALLOW', nodes: ['node-a', 'node-b'] });
      assert.equal(native.taskTimeout, 120);
      assert.equal(native.tasks.total, 4);
    });

    it('SubmitJobFiles sends every value as a string; they are read the same', async () => {
      const job = await submitDeadline(t, {
        Plugin: 'CommandLine',
        Name: 'strings',
        Frames: '1-4',
        ChunkSize: '2',
        Priority: '60',
        MachineLimit: '1',
        Blacklist: 'bad-node',
      });
      assert.equal(job.Props.Chunk, 2);
      assert.equal(job.Props.Tasks, 2);
      assert.equal(job.Props.Pri, 60);
      assert.equal(job.Props.White, false);
      assert.deepEqual(job.Props.ListedSlaves, ['bad-node']);
      const native = await nativeJob(t, job._id);
      assert.deepEqual(native.nodeList, { mode: 'DENY', nodes: ['bad-node'] });
    });

    it('Allowlist and Denylist are read like Whitelist and Blacklist', async () => {
      const allow = await submitDeadline(t, { Allowlist: 'n1' });
      assert.equal(allow.Props.White, true);
      const deny = await submitDeadline(t, { Denylist: 'n2' });
      assert.equal(deny.Props.White, false);
      assert.deepEqual(deny.Props.ListedSlaves, ['n2']);
    });

    it('IdOnly (bool or string) returns just {_id}', async () => {
      for (const idOnly of [true, 'true']) {
        const res = await t.dl('POST', '/api/jobs', {
          JobInfo: { Plugin: 'CommandLine', Name: 'ids' },
          PluginInfo: { Executable: '/bin/true' },
          AuxFiles: [],
          IdOnly: idOnly,
        });
        assert.equal(res.status, 200);
        assert.deepEqual(Object.keys(res.body), ['_id']);
        assert.match(res.body._id, /^[0-9a-f]{24}$/);
      }
    });

    it('a job without Frames renders frame 0 as one task', async () => {
      const job = await submitDeadline(t, { Name: 'no frames' });
      assert.equal(job.Props.Frames, '0');
      assert.equal(job.Props.Tasks, 1);
      const tasks = await t.dl('GET', `/api/tasks?JobID=${job._id}`);
      assert.equal(tasks.body.Tasks[0].Frames, '0-0');
    });

    it('InitialStatus Suspended, JobDependencies pending until done', async () => {
      const held = await submitDeadline(t, { Name: 'held', InitialStatus: 'Suspended' });
      assert.equal(held.Stat, 2);
      assert.equal((await nativeJob(t, held._id)).state, 'SUSPENDED');
      const first = await submitDeadline(t, { Name: 'first' });
      const second = await submitDeadline(t, { Name: 'second', JobDependencies: first._id });
      assert.equal(second.Stat, 6);
      assert.deepEqual(
        second.Props.Dep.map((d: any) => d.JobID),
        [first._id],
      );
      const native = await nativeJob(t, second._id);
      assert.equal(native.state, 'PENDING');
      assert.equal(native.pendReason, 'DEPENDENCIES');
      const done = await t.dl('PUT', '/api/jobs', { Command: 'complete', JobID: first._id });
      assert.equal(done.text, 'Success');
      assert.equal((await nativeJob(t, second._id)).state, 'QUEUED');
    });

    it('a failed dependency: pending, or released with ResumeOnFailedDependencies', async () => {
      const first = await submitDeadline(t, { Name: 'first' });
      const waits = await submitDeadline(t, { Name: 'waits', JobDependencies: first._id });
      const resumes = await submitDeadline(t, {
        Name: 'resumes',
        JobDependencies: first._id,
        ResumeOnFailedDependencies: 'true',
      });
      assert.equal(resumes.Props.DepFail, true);
      assert.equal((await nativeJob(t, waits._id)).onDependencyFailure, 'WAIT');
      assert.equal((await nativeJob(t, resumes._id)).onDependencyFailure, 'RUN');
      const failed = await t.dl('PUT', '/api/jobs', { Command: 'fail', JobID: first._id });
      assert.equal(failed.text, 'Success');
      assert.equal((await nativeJob(t, waits._id)).state, 'PENDING', "Deadline's dependents wait");
      assert.equal((await nativeJob(t, resumes._id)).state, 'QUEUED');
    });

    it('IsFrameDependent: queued, each frame held until the same frame of its dependency', async () => {
      const first = await submitDeadline(t, { Name: 'first', Frames: '1-4', ChunkSize: 2 });
      const frames = await submitDeadline(t, {
        Name: 'frames',
        Frames: '1-4',
        JobDependencies: first._id,
        IsFrameDependent: 'true',
      });
      let native = await nativeJob(t, frames._id);
      assert.equal(native.frameDependent, true);
      assert.equal(native.state, 'QUEUED');
      assert.equal(native.tasks.pending, 4);
      const done = await t.dl('PUT', '/api/jobs', { Command: 'complete', JobID: first._id });
      assert.equal(done.text, 'Success');
      native = await nativeJob(t, frames._id);
      assert.equal(native.tasks.queued, 4);
      const offsetJob = await submitDeadline(t, {
        Name: 'offsets',
        Frames: '1-4',
        JobDependencies: first._id,
        IsFrameDependent: 'true',
        FrameDependencyOffsetStart: '-1',
        FrameDependencyOffsetEnd: '2',
      });
      native = await nativeJob(t, offsetJob._id);
      assert.equal(native.frameOffsetStart, -1);
      assert.equal(native.frameOffsetEnd, 2);
      assert.equal(offsetJob.Props.DepFrameStart, -1);
      assert.equal(offsetJob.Props.DepFrameEnd, 2);
      const reversed = await t.dl('POST', '/api/jobs', {
        JobInfo: {
          Plugin: 'CommandLine',
          JobDependencies: first._id,
          IsFrameDependent: 'true',
          FrameDependencyOffsetStart: '3',
        },
        PluginInfo: { Executable: '/bin/true' },
        AuxFiles: [],
      });
      expectDeadlineError(reversed, 400, /FrameDependencyOffsetStart \(3\) must not be above/);
    });

    it('ScheduledType Once holds the job pending until its time', async () => {
      const job = await submitDeadline(t, {
        Name: 'later',
        ScheduledType: 'Once',
        ScheduledStartDateTime: '01/01/2099 10:30',
      });
      assert.equal(job.Stat, 6);
      assert.equal(job.Props.Schd, 1);
      const native = await nativeJob(t, job._id);
      assert.equal(native.pendReason, 'SCHEDULE');
      assert.equal(Date.parse(native.scheduledAt), new Date(2099, 0, 1, 10, 30).getTime());
    });

    it('OnJobComplete and OnTaskTimeout show as their codes', async () => {
      const archive = await submitDeadline(t, {
        OnJobComplete: 'Archive',
        OnTaskTimeout: 'Notify',
      });
      assert.equal(archive.Props.OnComp, 0);
      assert.equal(archive.Props.Timeout, 2);
      const del = await submitDeadline(t, { OnJobComplete: 'Delete' });
      assert.equal(del.Props.OnComp, 1);
    });

    it('another plugin becomes a job type of its name whose tasks fail with a clear message', async () => {
      const res = await t.dl('POST', '/api/jobs', {
        JobInfo: { Plugin: 'MayaBatch', Name: 'maya', Frames: '1-2' },
        PluginInfo: { SceneFile: '/s.ma', Version: 2024 },
        AuxFiles: [],
      });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.Plug, 'MayaBatch');
      assert.deepEqual(res.body.Props.PlugInfo, { SceneFile: '/s.ma', Version: '2024' });
      const native = await nativeJob(t, res.body._id);
      assert.equal(native.type.name, 'MayaBatch');
      const types = await t.request('GET', '/api/v1/job-types');
      const maya = types.body.items.find((x: any) => x.name === 'MayaBatch');
      assert.match(maya.definition.command.join(' '), /no Deadline plugin "MayaBatch"/);
      assert.match(maya.definition.command.join(' '), /exit 1/);
    });

    it('the multi-job form: Dependent "true" chains each job on the previous one', async () => {
      const res = await t.dl('POST', '/api/jobs', {
        Jobs: [
          {
            JobInfo: { Plugin: 'CommandLine', Name: 'a' },
            PluginInfo: { Executable: '/bin/true' },
            AuxFiles: [],
          },
          {
            JobInfo: { Plugin: 'CommandLine', Name: 'b' },
            PluginInfo: { Executable: '/bin/true' },
            AuxFiles: [],
          },
        ],
        Dependent: 'true',
      });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.length, 2);
      const [a, b] = res.body;
      assert.equal(a.Stat, 1);
      assert.equal(b.Stat, 6);
      assert.deepEqual((await nativeJob(t, b._id)).dependencies, [idNumber(a._id)]);
      const independent = await t.dl('POST', '/api/jobs', {
        Jobs: [
          {
            JobInfo: { Plugin: 'CommandLine', Name: 'c' },
            PluginInfo: { Executable: '/bin/true' },
            AuxFiles: [],
          },
          {
            JobInfo: { Plugin: 'CommandLine', Name: 'd' },
            PluginInfo: { Executable: '/bin/true' },
            AuxFiles: [],
            DependsOnPrevious: false,
          },
        ],
        Dependent: 'false',
      });
      assert.deepEqual(
        independent.body.map((j: any) => j.Stat),
        [1, 1],
      );
    });

    it('bodies are JSON whatever the Content-Type (urlencoded, none)', async () => {
      const body = JSON.stringify({
        JobInfo: { Plugin: 'CommandLine', Name: 'old client' },
        PluginInfo: { Executable: '/bin/true' },
        AuxFiles: [],
      });
      for (const contentType of ['application/x-www-form-urlencoded', null, 'text/plain']) {
        const res = await t.dl('POST', '/api/jobs', body, { contentType });
        assert.equal(res.status, 200, `${contentType}: ${res.text}`);
        assert.equal(res.body.Props.Name, 'old client');
      }
    });

    it('errors: 400 for a missing body or key, 400 for bad values, text bodies', async () => {
      expectDeadlineError(await t.dl('POST', '/api/jobs'), 400, /no message body/);
      expectDeadlineError(await t.dl('POST', '/api/jobs', '{"JobInfo": {}}'), 400, /mandatory/);
      expectDeadlineError(
        await t.dl('POST', '/api/jobs', { JobInfo: { Name: 'x' }, PluginInfo: {}, AuxFiles: [] }),
        400,
        /Plugin/,
      );
      expectDeadlineError(
        await t.dl('POST', '/api/jobs', {
          JobInfo: { Plugin: 'CommandLine' },
          PluginInfo: {},
          AuxFiles: [],
        }),
        400,
        /Executable/,
      );
      expectDeadlineError(
        await t.dl('POST', '/api/jobs', {
          JobInfo: { Plugin: 'CommandLine', Frames: '1-x' },
          PluginInfo: { Executable: '/bin/true' },
          AuxFiles: [],
        }),
        400,
        /frame list/,
      );
      expectDeadlineError(await t.dl('POST', '/api/jobs', 'not json'), 400, /JSON/);
      expectDeadlineError(
        await t.dl('POST', '/api/jobs', {
          JobInfo: { Plugin: 'CommandLine', JobDependencies: '0000000000000000000fffff' },
          PluginInfo: { Executable: '/bin/true' },
          AuxFiles: [],
        }),
        400,
        /do not exist/,
      );
    });
  });
}
