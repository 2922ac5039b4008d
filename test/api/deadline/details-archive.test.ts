/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../../helpers/databases.js';
import { eventually } from '../../helpers/eventually.js';
import { acquire, register, report } from '../support.js';
import {
  commandBody,
  expectDeadlineError,
  expectSuccess,
  nativeJob,
  startDeadlineTestServer,
  submitDeadline,
  type DeadlineTestServer,
} from './support.js';

/* Seed: Get Job Details, Calculate Job Statistics, Archive Job, Import Job; OnJobComplete. */

async function runTask(t: DeadlineTestServer, nodeId: number, ms: number, ok = true) {
  const order = await acquire(t, nodeId);
  if (!order) {
    const res = await t.request('GET', '/api/v1/jobs?limit=100');
    assert.fail(
      `no task to run: ${JSON.stringify(res.body.items.map((j: any) => [j.id, j.name, j.state, j.tasks, j.deleted]))}`,
    );
  }
  await report(t, order.execution.id, 'start', { nodeId });
  t.clock.advance(ms);
  const res = await report(t, order.execution.id, 'finish', {
    nodeId,
    success: ok,
    exitCode: ok ? 0 : 1,
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
}

for (const database of TEST_DATABASES) {
  describe(`Deadline: details, statistics, archives (${database.name})`, () => {
    let t: DeadlineTestServer;
    let node: any;
    before(async () => {
      t = await startDeadlineTestServer(database);
      node = await register(t, 'stats-node');
    });
    after(async () => {
      await t?.close();
    });

    it('Statistics and Details come from the executions', async () => {
      const job = await submitDeadline(t, {
        Name: 'timed',
        Frames: '1-4',
        ChunkSize: 2,
        FailureDetectionTaskErrors: 3,
        OverrideTaskFailureDetection: true,
      });
      await runTask(t, node.id, 5_000, false); // one failed try of task 0
      await runTask(t, node.id, 10_000);
      await runTask(t, node.id, 20_000);
      const stats = await t.dl('GET', `/api/jobs?JobID=${job._id}&Statistics=true`);
      assert.equal(stats.status, 200, stats.text);
      assert.equal(stats.body.JobID, job._id);
      assert.equal(stats.body.CompletedTaskCount, 2);
      assert.equal(stats.body.Errs, 1);
      assert.equal(stats.body.RendTime, '0:00:00:30');
      assert.equal(stats.body.RendTimeSeconds, 30);
      assert.equal(stats.body.AvgFrameRend, '0:00:00:08');
      assert.equal(stats.body.AvgFrameRendSeconds, 7.5);
      assert.equal(stats.body.AvgTaskRend, '0:00:00:15');

      const details = await t.dl('GET', `/api/jobs?JobID=${job._id}&Details=true`);
      const d = details.body[job._id];
      assert.equal(d.Job.Status, 'Completed');
      assert.equal(d.Statistics['Total Task Render Time'], '0:00:00:30');
      const [days = 0, hours = 0, minutes = 0, seconds = 0] = d.Statistics['Total Task Render Time']
        .split(':')
        .map(Number);
      assert.equal(((days * 24 + hours) * 60 + minutes) * 60 + seconds, 30);
      const shown = (await t.dl('GET', `/api/jobs?JobID=${job._id}`)).body[0];
      assert.equal(shown.Errs, 1);
      const task0 = await t.dl('GET', `/api/tasks?JobID=${job._id}&TaskID=0`);
      assert.equal(task0.body.Errs, 1);
      assert.equal(task0.body.Stat, 5);
      assert.equal(task0.body.Slave, 'stats-node');

      expectDeadlineError(await t.dl('GET', '/api/jobs?Statistics=true'), 400, /statistics/);
      expectDeadlineError(await t.dl('GET', '/api/jobs?Details=true'), 400, /details/);
    });

    it('archive writes a file in the archive directory; import restores the job', async () => {
      const job = await submitDeadline(t, { Name: 'to archive', Frames: '1-3' });
      expectSuccess(await t.dl('PUT', '/api/jobs', commandBody('archive', job._id)));
      const files = readdirSync(t.archiveDir);
      const file = files.find((f) => f.includes(job._id));
      assert.ok(file, `archive file in ${files.join(', ')}`);
      assert.deepEqual((await t.dl('GET', `/api/jobs?JobID=${job._id}`)).body, []);
      assert.equal((await nativeJob(t, job._id)).archivedAt !== null, true);

      const res = await t.dl('PUT', '/api/jobs', { Command: 'import', File: file });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body, { Imported: [job._id], NotImported: [] });
      const back = (await t.dl('GET', `/api/jobs?JobID=${job._id}`)).body[0];
      assert.equal(back.Props.Name, 'to archive');
      assert.equal(back.Props.Tasks, 3);

      // Archived again and purged: import makes a new job from the file, then deletes it.
      expectSuccess(await t.dl('PUT', '/api/jobs', commandBody('archive', job._id)));
      expectSuccess(await t.dl('DELETE', `/api/jobs?Purge=true&JobID=${job._id}`));
      const again = await t.dl('PUT', '/api/jobs', {
        Command: 'import',
        File: [join(t.archiveDir, file)],
        DeleteFile: true,
      });
      assert.equal(again.body.Imported.length, 1);
      const copy = (await t.dl('GET', `/api/jobs?JobID=${again.body.Imported[0]}`)).body[0];
      assert.equal(copy.Props.Name, 'to archive');
      assert.equal(copy.Props.Tasks, 3);
      assert.equal(existsSync(join(t.archiveDir, file)), false);
    });

    it('an imported frame-dependent job waits frame by frame again', async () => {
      const first = await submitDeadline(t, { Name: 'first', Frames: '1-2' });
      const job = await submitDeadline(t, {
        Name: 'frames',
        Frames: '1-2',
        JobDependencies: first._id,
        IsFrameDependent: 'true',
      });
      expectSuccess(await t.dl('PUT', '/api/jobs', commandBody('archive', job._id)));
      expectSuccess(await t.dl('DELETE', `/api/jobs?Purge=true&JobID=${job._id}`));
      const file = readdirSync(t.archiveDir).find((f) => f.includes(job._id));
      assert.ok(file);
      const back = await t.dl('PUT', '/api/jobs', {
        Command: 'import',
        File: [join(t.archiveDir, file)],
        DeleteFile: true,
      });
      const id = back.body.Imported[0];
      let native = await nativeJob(t, id);
      assert.equal(native.frameDependent, true);
      assert.equal(native.tasks.pending, 2);
      expectSuccess(await t.dl('PUT', '/api/jobs', commandBody('complete', first._id)));
      native = await nativeJob(t, id);
      assert.equal(native.tasks.queued, 2, 'the restored edge releases its frames');
    });

    it('import refuses paths outside the archive directory and files that are not archives', async () => {
      writeFileSync(join(t.archiveDir, 'junk.json'), '{"hello": 1}');
      const res = await t.dl('PUT', '/api/jobs', {
        Command: 'import',
        File: ['/etc/passwd', '../outside.json', 'junk.json', 'missing.json'],
      });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.Imported, []);
      assert.equal(res.body.NotImported.length, 4);
      assert.match(res.body.NotImported[0].Error, /not in the archive directory/);
      assert.match(res.body.NotImported[1].Error, /not in the archive directory/);
      assert.match(res.body.NotImported[2].Error, /not a Drover job archive/);
      expectDeadlineError(await t.dl('PUT', '/api/jobs', { Command: 'import' }), 400, /File/);
    });

    it('OnJobComplete Delete and Archive act when the job completes', async () => {
      const del = await submitDeadline(t, { Name: 'delete me', OnJobComplete: 'Delete' });
      const arc = await submitDeadline(t, { Name: 'archive me', OnJobComplete: 'Archive' });
      const keep = await submitDeadline(t, { Name: 'keep me', OnJobComplete: 'Nothing' });
      // Everything queued runs, the jobs left by the tests above included.
      while ((await t.dl('GET', '/api/jobs?States=Active&IdOnly=true')).body.length > 0) {
        await runTask(t, node.id, 1_000);
      }
      await eventually(async () => assert.equal((await nativeJob(t, del._id)).deleted, true));
      await eventually(async () => assert.notEqual((await nativeJob(t, arc._id)).archivedAt, null));
      assert.ok(readdirSync(t.archiveDir).some((f) => f.includes(arc._id)));
      const kept = await nativeJob(t, keep._id);
      assert.equal(kept.state, 'COMPLETED');
      assert.equal(kept.deleted, false);
      const deleted = await t.dl('GET', `/api/jobs?Deleted=true&JobID=${del._id}`);
      assert.equal(deleted.body.length, 1);
    });
  });
}
