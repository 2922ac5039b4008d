/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../../helpers/databases.js';
import { acquire, register, report } from '../support.js';
import { startDeadlineTestServer, submitDeadline, type DeadlineTestServer } from './support.js';

/*
 * Deadline's usage figures (reference §4, §5) come from what the nodes measured, the
 * numbers /api/v1/usage sums: a task's RamPeak, RamPeakPer and Cpu (its machine's share),
 * a task report's PeakRam, AverageCpu and TaskTime, and the job's render time, CPU time, CPU usage
 * and peak RAM in Statistics and Details.
 */

const GiB = 2 ** 30;

for (const database of TEST_DATABASES) {
  describe(`Deadline: usage statistics (${database.name})`, () => {
    let t: DeadlineTestServer;
    before(async () => {
      t = await startDeadlineTestServer(database);
    });
    after(async () => {
      await t?.close();
    });

    it('shows the measured CPU and RAM on tasks, reports and the job', async () => {
      // 4 CPUs and 8 GiB of memory.
      const node = await register(t, 'measured', { cpus: 4, mem: 8192 });
      const job = await submitDeadline(t, { Name: 'measured', Frames: '1-2', ChunkSize: 1 });
      const runs = [
        { cpuSeconds: 60, wallSeconds: 30, peakMemoryBytes: 2 * GiB },
        { cpuSeconds: 30, wallSeconds: 30, peakMemoryBytes: GiB },
      ];
      for (const usage of runs) {
        const order = await acquire(t, node.id);
        await report(t, order.execution.id, 'start', { nodeId: node.id });
        // The clock says 40 s; the node measured 30 s of wall time, which counts.
        t.clock.advance(40_000);
        const res = await report(t, order.execution.id, 'finish', {
          nodeId: node.id,
          success: true,
          exitCode: 0,
          usage,
        });
        assert.equal(res.status, 200, JSON.stringify(res.body));
      }

      const tasks = (await t.dl('GET', `/api/tasks?JobID=${job._id}`)).body;
      const list = Array.isArray(tasks) ? tasks : tasks.Tasks;
      assert.deepEqual(
        list.map((x: any) => [x.TaskID, x.Cpu, x.RamPeak, x.RamPeakPer]),
        [
          // 60 CPU-seconds over 30 s on 4 CPUs: half the machine; 2 of 8 GiB.
          [0, 50, 2 * GiB, 25],
          [1, 25, GiB, 12.5],
        ],
      );

      const reports = (await t.dl('GET', `/api/taskreports?JobID=${job._id}&TaskID=1`)).body;
      assert.equal(reports.length, 1);
      assert.equal(reports[0].AverageCpu, 25);
      assert.equal(reports[0].PeakRam, GiB);
      assert.equal(reports[0].RamPeakPer, 12.5);
      assert.equal(reports[0].PeakCpu, 0, 'not measured, not invented');
      assert.equal(reports[0].TaskTime, 30, 'the measured wall time, not the 40 s of the clock');

      const stats = (await t.dl('GET', `/api/jobs?JobID=${job._id}&Statistics=true`)).body;
      assert.equal(stats.RendTimeSeconds, 60, 'the measured wall time, not the 80 s of the clock');
      assert.equal(stats.TotalCpuTimeSeconds, 90);
      assert.equal(stats.TotalCpuTime, '0:00:01:30');
      assert.equal(stats.AvgCpuUsage, 37.5);
      assert.equal(stats.PeakRamUsage, 2 * GiB);
      const details = (await t.dl('GET', `/api/jobs?JobID=${job._id}&Details=true`)).body;
      const s = details[job._id].Statistics;
      assert.equal(s['Total Task Render Time'], '0:00:01:00');
      assert.equal(s['Average CPU Usage'], '37.5 %');
      assert.equal(s['Peak RAM Usage'], '2048.0 MB');
      assert.equal(s['Total CPU Time'], '0:00:01:30');
    });
  });
}
