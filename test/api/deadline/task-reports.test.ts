/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../../helpers/databases.js';
import { acquire, executionsOf, expectStatus, register, report } from '../support.js';
import {
  deadlineId,
  type DeadlineTestServer,
  expectDeadlineError,
  expectSuccess,
  idNumber,
  startDeadlineTestServer,
  submitDeadline,
} from './support.js';

/*
 * /api/taskreports and /api/jobreports (TaskReports.py, JobReports.py): every ended
 * execution is a report. The executions come from the node protocol, with the clock moved
 * by hand: task 0 fails once and then succeeds; task 1 is requeued while it runs, given
 * back before it starts, lost with its node, and is running again; task 2 never ran.
 */

const iso = (ms: number): string => new Date(ms).toISOString();
const UNSET = '0001-01-01T00:00:00Z';
const BAR = '='.repeat(55);

const KEYS = [
  'Job',
  'Type',
  'Date',
  'Slave',
  'Task',
  'Title',
  'JobName',
  'JobUser',
  'Plugin',
  'Frames',
  'TaskStartTime',
  'TaskTime',
  'LogErr',
  'AverageCpu',
  'PeakCpu',
  'AverageRam',
  'RamAvgPer',
  'PeakRam',
  'RamPeakPer',
  'UsedClock',
  'TotalClock',
  '_id',
];

const NO_USAGE = {
  AverageCpu: 0,
  PeakCpu: 0,
  AverageRam: 0,
  RamAvgPer: 0,
  PeakRam: 0,
  RamPeakPer: 0,
  UsedClock: 0,
  TotalClock: 0,
};

for (const database of TEST_DATABASES) {
  describe(`Deadline: task and job reports (${database.name})`, () => {
    let t: DeadlineTestServer;
    let job: any;
    let user: string;
    /** The expected report of each ended execution, by letter, in the order they ended. */
    const expected: Record<string, any> = {};
    let start: number;
    let leaseMs: number;

    const step = async (ms: number) => t.clock.advance(ms);
    const ok = async (res: Promise<any>, what: string) => expectStatus(await res, 200, what);
    const reports = async (path: string) => {
      const res = await t.dl('GET', path);
      assert.equal(res.status, 200, `${path}: ${res.status} ${res.text}`);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      return res.body;
    };

    before(async () => {
      t = await startDeadlineTestServer(database);
      leaseMs = t.engine.settings.leaseMs;
      start = t.clock.now;
      job = await submitDeadline(t, { Name: 'report job', Frames: '1-3' });
      user = job.Props.User;
      const base = (letter: string, fields: Record<string, unknown>) => {
        expected[letter] = {
          Job: job._id,
          JobName: 'report job',
          JobUser: user,
          Plugin: 'CommandLine',
          LogErr: '',
          ...NO_USAGE,
          ...fields,
        };
      };
      const one = await register(t, 'render-01');

      // A: task 0 runs 5 s, logs two lines, and fails (it is retried).
      const a = await acquire(t, one.id);
      assert.equal(a.task.index, 0);
      await ok(report(t, a.execution.id, 'start', { nodeId: one.id }), 'start A');
      await ok(
        t.request('POST', `/api/v1/executions/${a.execution.id}/logs`, {
          nodeId: one.id,
          lines: [
            { stream: 'stdout', text: 'rendering frame 1' },
            { stream: 'stderr', text: 'out of memory' },
          ],
        }),
        'log A',
      );
      await step(5000);
      await ok(
        report(t, a.execution.id, 'finish', {
          nodeId: one.id,
          success: false,
          exitCode: 3,
          error: { message: 'renderer crashed' },
        }),
        'fail A',
      );
      base('A', {
        Type: 1,
        Date: iso(start + 5000),
        Slave: 'render-01',
        Task: 0,
        Title: 'Error: renderer crashed',
        Frames: '1-1',
        TaskStartTime: iso(start),
        TaskTime: 5,
        _id: deadlineId(a.execution.id),
      });

      // B: task 0 again, 12 s, succeeds.
      await step(1000);
      const b = await acquire(t, one.id);
      assert.equal(b.task.index, 0);
      await ok(report(t, b.execution.id, 'start', { nodeId: one.id }), 'start B');
      await ok(
        t.request('POST', `/api/v1/executions/${b.execution.id}/logs`, {
          nodeId: one.id,
          lines: [{ stream: 'stdout', text: 'frame 1 done' }],
        }),
        'log B',
      );
      await step(12_000);
      await ok(
        report(t, b.execution.id, 'finish', { nodeId: one.id, success: true, exitCode: 0 }),
        'finish B',
      );
      base('B', {
        Type: 0,
        Date: iso(start + 18_000),
        Slave: 'render-01',
        Task: 0,
        Title: '',
        Frames: '1-1',
        TaskStartTime: iso(start + 6000),
        TaskTime: 12,
        _id: deadlineId(b.execution.id),
      });

      // C: task 1 runs 2 s and is requeued through the Deadline face.
      await step(1000);
      const c = await acquire(t, one.id);
      assert.equal(c.task.index, 1);
      await ok(report(t, c.execution.id, 'start', { nodeId: one.id }), 'start C');
      await step(2000);
      expectSuccess(
        await t.dl('PUT', '/api/tasks', { Command: 'requeue', JobID: job._id, TaskList: 1 }),
      );
      base('C', {
        Type: 2,
        Date: iso(start + 21_000),
        Slave: 'render-01',
        Task: 1,
        Title: 'withdrawn by the server',
        Frames: '2-2',
        TaskStartTime: iso(start + 19_000),
        TaskTime: 2,
        _id: deadlineId(c.execution.id),
      });

      // D: task 1 is acquired and given back before it starts.
      await step(1000);
      const d = await acquire(t, one.id);
      assert.equal(d.task.index, 1);
      await ok(report(t, d.execution.id, 'release', { nodeId: one.id }), 'release D');
      base('D', {
        Type: 2,
        Date: iso(start + 22_000),
        Slave: 'render-01',
        Task: 1,
        Title: 'the node gave the task back before starting it',
        Frames: '2-2',
        TaskStartTime: UNSET,
        TaskTime: 0,
        _id: deadlineId(d.execution.id),
      });

      // E: another node starts task 1 and goes silent; the reaper takes the task back.
      await step(1000);
      const two = await register(t, 'render-02');
      const e = await acquire(t, two.id);
      assert.equal(e.task.index, 1);
      await ok(report(t, e.execution.id, 'start', { nodeId: two.id }), 'start E');
      await step(leaseMs + 1000);
      assert.equal((await t.engine.reaper.tick()).lost, 1);
      base('E', {
        Type: 2,
        Date: iso(start + 23_000 + leaseMs + 1000),
        Slave: 'render-02',
        Task: 1,
        Title: 'the node stopped reporting and its lease expired',
        Frames: '2-2',
        TaskStartTime: iso(start + 23_000),
        TaskTime: Math.round((leaseMs + 1000) / 1000),
        _id: deadlineId(e.execution.id),
      });

      // F: a third node is rendering task 1 now; a live execution is no report yet.
      const three = await register(t, 'render-03');
      const f = await acquire(t, three.id);
      assert.equal(f.task.index, 1);
      await ok(report(t, f.execution.id, 'start', { nodeId: three.id }), 'start F');

      const executions = await executionsOf(t, idNumber(job._id));
      assert.deepEqual(
        executions.map((x: any) => x.state),
        ['FAILED', 'COMPLETED', 'CANCELED', 'RELEASED', 'FAILED', 'RUNNING'],
      );
    });
    after(async () => {
      await t?.close();
    });

    it('a task’s reports, field by field, for each Data kind', async () => {
      const all = await reports(`/api/taskreports?JobID=${job._id}&TaskID=0`);
      assert.deepEqual(all, [expected.A, expected.B]);
      for (const r of all) assert.deepEqual(Object.keys(r), KEYS);
      assert.deepEqual(await reports(`/api/taskreports?JobID=${job._id}&TaskID=0&Data=all`), all);
      assert.deepEqual(await reports(`/api/taskreports?JobID=${job._id}&TaskID=0&Data=error`), [
        expected.A,
      ]);
      assert.deepEqual(await reports(`/api/taskreports?JobID=${job._id}&TaskID=0&Data=log`), [
        expected.B,
      ]);
      assert.deepEqual(
        await reports(`/api/taskreports?JobID=${job._id}&TaskID=0&Data=requeue`),
        [],
      );

      // Requeued, released, and lost with its node: requeue reports; the running try is none.
      assert.deepEqual(await reports(`/api/taskreports?JobID=${job._id}&TaskID=1`), [
        expected.C,
        expected.D,
        expected.E,
      ]);
      assert.deepEqual(await reports(`/api/taskreports?JobID=${job._id}&TaskID=1&Data=requeue`), [
        expected.C,
        expected.D,
        expected.E,
      ]);
      assert.deepEqual(await reports(`/api/taskreports?JobID=${job._id}&TaskID=1&Data=error`), []);
      assert.deepEqual(await reports(`/api/taskreports?JobID=${job._id}&TaskID=1&Data=log`), []);
      assert.deepEqual(await reports(`/api/taskreports?JobID=${job._id}&TaskID=2`), []);
      // The Data value and the query keys are read without regard to case.
      assert.deepEqual(await reports(`/api/taskreports?jobid=${job._id}&taskid=0&data=Error`), [
        expected.A,
      ]);
    });

    it('a job’s reports: every task’s, in the order they ended', async () => {
      const { A, B, C, D, E } = expected;
      assert.deepEqual(await reports(`/api/jobreports?JobID=${job._id}`), [A, B, C, D, E]);
      assert.deepEqual(await reports(`/api/jobreports?JobID=${job._id}&Data=all`), [A, B, C, D, E]);
      assert.deepEqual(await reports(`/api/jobreports?JobID=${job._id}&Data=error`), [A]);
      assert.deepEqual(await reports(`/api/jobreports?JobID=${job._id}&Data=log`), [B]);
      assert.deepEqual(await reports(`/api/jobreports?JobID=${job._id}&Data=requeue`), [C, D, E]);
    });

    it('report contents: the error or reason, then the log as a Worker writes it', async () => {
      const errorText = [
        BAR,
        'Error',
        BAR,
        'Error: renderer crashed',
        '',
        BAR,
        'Log',
        BAR,
        '2026-01-01 00:00:00:  0: STDOUT: rendering frame 1',
        '2026-01-01 00:00:00:  0: STDERR: out of memory',
        '',
      ].join('\n');
      const logText = [BAR, 'Log', BAR, '2026-01-01 00:00:06:  0: STDOUT: frame 1 done', ''].join(
        '\n',
      );
      const requeueText = (reason: string) =>
        [BAR, 'Requeue', BAR, reason, '', BAR, 'Log', BAR, ''].join('\n');

      const task0 = `/api/taskreports?JobID=${job._id}&TaskID=0`;
      assert.deepEqual(await reports(`${task0}&Data=allcontents`), [errorText, logText]);
      assert.deepEqual(await reports(`${task0}&Data=allerrorcontents`), [errorText]);
      assert.deepEqual(await reports(`${task0}&Data=alllogcontents`), [logText]);
      assert.deepEqual(await reports(`${task0}&Data=allrequeuecontents`), []);
      assert.deepEqual(
        await reports(`/api/taskreports?JobID=${job._id}&TaskID=1&Data=allrequeuecontents`),
        [
          requeueText('withdrawn by the server'),
          requeueText('the node gave the task back before starting it'),
          requeueText('the node stopped reporting and its lease expired'),
        ],
      );

      const jobPath = `/api/jobreports?JobID=${job._id}`;
      const allContents = await reports(`${jobPath}&Data=allcontents`);
      assert.equal(allContents.length, 5);
      assert.deepEqual(allContents.slice(0, 2), [errorText, logText]);
      assert.deepEqual(await reports(`${jobPath}&Data=allerrorcontents`), [errorText]);
      assert.deepEqual(await reports(`${jobPath}&Data=alllogcontents`), [logText]);
      assert.equal((await reports(`${jobPath}&Data=allrequeuecontents`)).length, 3);

      // One report by its _id: a JSON string, line breaks kept.
      const one = await t.dl('GET', `${jobPath}&Data=errorcontents&ReportID=${expected.A._id}`);
      assert.equal(one.status, 200);
      assert.equal(JSON.parse(one.text), errorText);
      assert.equal(
        JSON.parse(
          (await t.dl('GET', `${jobPath}&Data=logcontents&ReportID=${expected.B._id}`)).text,
        ),
        logText,
      );
      assert.equal(
        JSON.parse(
          (await t.dl('GET', `${jobPath}&Data=requeuecontents&ReportID=${expected.D._id}`)).text,
        ),
        requeueText('the node gave the task back before starting it'),
      );
      // A report of another kind, or of no such id, is not there; no ReportID is a 400.
      expectDeadlineError(
        await t.dl('GET', `${jobPath}&Data=logcontents&ReportID=${expected.A._id}`),
        500,
        /Report ID/,
      );
      expectDeadlineError(
        await t.dl('GET', `${jobPath}&Data=errorcontents&ReportID=${deadlineId(999_999)}`),
        500,
      );
      expectDeadlineError(await t.dl('GET', `${jobPath}&Data=errorcontents`), 400, /ReportID/);
    });

    it('the reports of a job from another face show its type as the plugin', async () => {
      const native = await t.request('POST', '/api/v1/jobs', {
        type: 'command-line',
        name: 'native job',
        parameters: { executable: 'echo' },
        // Ahead of the report job's queued task.
        priority: 90,
      });
      expectStatus(native, 201, 'native submit');
      const node = await register(t, 'render-04');
      const order = await acquire(t, node.id);
      assert.equal(order.job.id, native.body.id);
      await ok(
        report(t, order.execution.id, 'finish', { nodeId: node.id, success: true, exitCode: 0 }),
        'finish native',
      );
      const [r] = await reports(`/api/taskreports?JobID=${deadlineId(native.body.id)}&TaskID=0`);
      assert.equal(r.Plugin, 'CommandLine');
      assert.equal(r.JobName, 'native job');
      assert.equal(r.Frames, '0-0');
      assert.equal(r.Type, 0);
      assert.equal(r.Slave, 'render-04');
    });

    it('errors: Deadline’s 400s and 500s as text, 501 for other methods', async () => {
      const unknown = '0000000000000000000fffff';
      expectDeadlineError(await t.dl('GET', '/api/taskreports?TaskID=0'), 400, /JobID/);
      expectDeadlineError(await t.dl('GET', `/api/taskreports?JobID=${job._id}`), 400, /TaskID/);
      expectDeadlineError(
        await t.dl('GET', `/api/taskreports?JobID=${job._id}&TaskID=x`),
        400,
        /task ID/,
      );
      expectDeadlineError(
        await t.dl('GET', `/api/taskreports?JobID=${job._id}&TaskID=-1`),
        400,
        /task ID/,
      );
      expectDeadlineError(
        await t.dl('GET', `/api/taskreports?JobID=${job._id}&TaskID=9`),
        400,
        /no task 9/,
      );
      expectDeadlineError(
        await t.dl('GET', `/api/taskreports?JobID=${job._id}&TaskID=0&Data=bogus`),
        400,
        /"bogus" is not a valid Data value.*allcontents/,
      );
      // Job reports' own Data values are not task reports'.
      expectDeadlineError(
        await t.dl('GET', `/api/taskreports?JobID=${job._id}&TaskID=0&Data=history`),
        400,
      );
      expectDeadlineError(
        await t.dl('GET', `/api/taskreports?JobID=${unknown}&TaskID=0`),
        500,
        /does not correspond to a Job/,
      );
      expectDeadlineError(await t.dl('GET', '/api/jobreports'), 400, /JobID/);
      expectDeadlineError(await t.dl('GET', '/api/jobreports?JobID=&Data=all'), 400, /JobID/);
      expectDeadlineError(
        await t.dl('GET', `/api/jobreports?JobID=${job._id}&Data=errors`),
        400,
        /Data/,
      );
      expectDeadlineError(
        await t.dl('GET', `/api/jobreports?JobID=${unknown}`),
        500,
        /does not correspond to a Job/,
      );
      // A deleted job is out of the repository.
      const gone = await submitDeadline(t, { Name: 'deleted' });
      expectSuccess(await t.dl('DELETE', `/api/jobs?JobID=${gone._id}`));
      expectDeadlineError(await t.dl('GET', `/api/jobreports?JobID=${gone._id}`), 500);

      for (const path of ['/api/taskreports', '/api/jobreports']) {
        for (const method of ['POST', 'PUT', 'DELETE']) {
          const res = await t.dl(method, path, method === 'DELETE' ? undefined : '{}');
          expectDeadlineError(res, 501);
        }
        const head = await fetch(`${t.deadlineUrl}${path}`, { method: 'HEAD' });
        assert.equal(head.status, 405);
      }
    });
  });
}
