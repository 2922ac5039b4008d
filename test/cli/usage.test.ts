import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import { api, buildOnce, drover, expectRun, submitJob } from './support.js';

const database = TEST_DATABASES[0]!;

/* `drover usage`: the usage report as a table, JSON or CSV, and its refusals. */

describe('drover usage', () => {
  let t: TestServer;
  before(async () => {
    await buildOnce();
    t = await startTestServer(database);
    const node = await api(t, 'POST', '/nodes', { name: 'n', pools: ['render'], slots: 2 });
    await submitJob(t, { name: 'a', pool: 'render', frames: '1-2', chunkSize: 1 });
    const claim = await api(t, 'POST', `/nodes/${node.id}/claims`, { max: 2, start: true });
    await api(t, 'POST', `/nodes/${node.id}/finishes`, {
      finishes: claim.orders.map((o: { execution: { id: number } }, i: number) => ({
        executionId: o.execution.id,
        success: true,
        usage: { cpuSeconds: 5400 * (i + 1), wallSeconds: 7200, peakMemoryBytes: 512 * 2 ** 20 },
      })),
    });
  });
  after(async () => {
    await t?.close();
  });

  it('prints the usage per pool as a table with its totals', async () => {
    expectRun(
      await drover(t, ['usage', '--group', 'pool']),
      0,
      [
        'usage of every user, 2025-12-02T00:00:01.000Z to 2026-01-01T00:00:01.000Z',
        'POOL     EXECUTIONS  CPU-HOURS  WALL-HOURS  GPU-HOURS  PEAK MEMORY',
        'render            2       4.50        4.00          -      512 MiB',
        '(total)           2       4.50        4.00          -      512 MiB',
        '',
      ].join('\n'),
    );
  });

  it('prints JSON with --json and CSV with --csv', async () => {
    const json = await drover(t, ['usage', '--json', '--from', '2025-12-31', '--to', '2026-01-02']);
    expectRun(json, 0);
    const report = JSON.parse(json.stdout);
    assert.equal(report.from, '2025-12-31T00:00:00.000Z');
    assert.deepEqual(
      report.items.map((i: { key: string; cpuHours: number }) => [i.key, i.cpuHours]),
      [['local', 4.5]],
    );
    expectRun(
      await drover(t, ['usage', '--csv', '--group', 'pool']),
      0,
      [
        'pool,executions,cpu_hours,wall_hours,gpu_hours,peak_memory_bytes',
        `render,2,4.5,4,,${512 * 2 ** 20}`,
        `(total),2,4.5,4,,${512 * 2 ** 20}`,
        '',
      ].join('\r\n'),
    );
  });

  it('says what is wrong with a bad group, time or range', async () => {
    expectRun(await drover(t, ['usage', '--group', 'shows']), 1, '', /--group.*shows/);
    expectRun(
      await drover(t, ['usage', '--from', 'last week']),
      1,
      '',
      /"last week" is not a date/,
    );
    expectRun(
      await drover(t, ['usage', '--from', '2026-02-01', '--to', '2026-01-01']),
      1,
      '',
      /from must be before to/,
    );
  });
});
