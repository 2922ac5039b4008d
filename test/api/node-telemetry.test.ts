/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import { expectError, expectStatus, register } from './support.js';

/*
 * Issue 17, node telemetry: a heartbeat carries the machine's figures; the node shows the
 * latest, the history keeps means over 10 s and 5 min steps, the reaper prunes each step
 * past its retention (a day, 90 days), and every field is validated and bounded.
 */

const GiB = 2 ** 30;
const DAY = 24 * 3600_000;

for (const database of TEST_DATABASES) {
  describe(`native API: node telemetry (${database.name})`, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(database);
    });
    after(async () => {
      await t?.close();
    });

    const beat = (nodeId: number, telemetry: unknown) =>
      t.request('POST', `/api/v1/nodes/${nodeId}/heartbeat`, { executions: [], telemetry });
    const node = async (id: number) =>
      expectStatus(await t.request('GET', `/api/v1/nodes/${id}`), 200).body;
    const history = async (id: number, step: string) =>
      expectStatus(await t.request('GET', `/api/v1/nodes/${id}/telemetry?step=${step}`), 200).body
        .items;

    it('the node shows its latest report; the history keeps 10 s and 5 min means', async () => {
      const { id } = await register(t, 'tele-1');
      assert.equal((await node(id)).telemetry, null);
      const t0 = t.clock.now;
      const first = {
        cpuPercent: 20,
        memUsedBytes: 4 * GiB,
        memTotalBytes: 16 * GiB,
        load1: 1.5,
        load5: 1.25,
        load15: 1,
        diskFreeBytes: 100 * GiB,
        diskTotalBytes: 500 * GiB,
        uptimeSeconds: 86_400,
        version: '0.1.0',
      };
      expectStatus(await beat(id, first), 200);
      assert.deepEqual((await node(id)).telemetry, {
        ...first,
        reportedAt: new Date(t0).toISOString(),
      });
      const listed = expectStatus(await t.request('GET', '/api/v1/nodes'), 200).body.items;
      assert.equal(listed.find((n: any) => n.id === id).telemetry.cpuPercent, 20);

      // Sooner than 5 s after the last: the heartbeat counts, the figures are dropped.
      t.clock.advance(2000);
      expectStatus(await beat(id, { ...first, cpuPercent: 90 }), 200);
      const shown = await node(id);
      assert.equal(shown.telemetry.cpuPercent, 20);
      assert.equal(shown.lastHeartbeat, new Date(t.clock.now).toISOString());

      t.clock.advance(4000); // t0 + 6 s: the same 10 s step
      expectStatus(await beat(id, { ...first, cpuPercent: 40, memUsedBytes: 6 * GiB }), 200);
      t.clock.advance(10_000); // t0 + 16 s: the next one
      const gpus = [
        {
          index: 0,
          name: 'NVIDIA A100',
          utilizationPercent: 50,
          memUsedBytes: GiB,
          memTotalBytes: 8 * GiB,
        },
        { index: 1, utilizationPercent: 100, memUsedBytes: GiB, memTotalBytes: 8 * GiB },
      ];
      expectStatus(await beat(id, { cpuPercent: 60, gpus }), 200);
      // The latest is the whole last report, not a merge with the one before.
      assert.deepEqual((await node(id)).telemetry, {
        cpuPercent: 60,
        gpus,
        reportedAt: new Date(t.clock.now).toISOString(),
      });

      const tens = await history(id, '10s');
      assert.deepEqual(
        tens.map((p: any) => [p.at, p.samples, p.cpuPercent, p.memUsedBytes, p.gpuPercent]),
        [
          [new Date(t0).toISOString(), 2, 30, 5 * GiB, null],
          [new Date(t0 + 10_000).toISOString(), 1, 60, null, 75],
        ],
      );
      assert.equal(tens[1].gpuMemUsedBytes, 2 * GiB);
      const fives = await history(id, '5m');
      assert.equal(fives.length, 1);
      assert.equal(fives[0].at, new Date(t0).toISOString());
      assert.equal(fives[0].samples, 3);
      assert.equal(fives[0].cpuPercent, 40);
      assert.equal(fives[0].memTotalBytes, 16 * GiB);
      assert.equal(fives[0].gpuPercent, 75);

      // A day on, the reaper's pass deletes the 10 s points and keeps the 5 min one ...
      t.clock.advance(DAY);
      const day = await t.engine.reaper.tick();
      assert.equal(day.telemetryPruned, 2);
      assert.deepEqual(await history(id, '10s'), []);
      assert.equal((await history(id, '5m')).length, 1);
      // ... which goes after 90 days.
      t.clock.advance(90 * DAY);
      assert.equal((await t.engine.reaper.tick()).telemetryPruned, 1);
      assert.deepEqual(await history(id, '5m'), []);
    });

    it('refuses figures out of range, inconsistent, or unknown, and stores none', async () => {
      const { id } = await register(t, 'tele-bad');
      const gpu = (index: number) => ({ index, utilizationPercent: 1 });
      for (const [telemetry, pattern] of [
        [{ cpuPercent: 101 }, /cpuPercent/],
        [{ cpuPercent: -1 }, /cpuPercent/],
        [{ load1: -0.5 }, /load1/],
        [{ memUsedBytes: 2 * GiB, memTotalBytes: GiB }, /memUsedBytes.*memTotalBytes/],
        [{ diskFreeBytes: 2 * GiB, diskTotalBytes: GiB }, /diskFreeBytes/],
        [{ memTotalBytes: 2 ** 51 }, /memTotalBytes/],
        [{ uptimeSeconds: 1e12 }, /uptimeSeconds/],
        [{ version: 'x'.repeat(65) }, /version/],
        [{ version: 'has spaces' }, /version/],
        [{ gpus: Array.from({ length: 65 }, (_, i) => gpu(i % 64)) }, /gpus/],
        [{ gpus: [gpu(0), gpu(0)] }, /GPU 0 twice/],
        [{ gpus: [{ index: 0, utilizationPercent: 120 }] }, /utilizationPercent/],
        [{ gpus: [{ index: 0, memUsedBytes: 2, memTotalBytes: 1 }] }, /memUsedBytes/],
        [{ gpus: [{ index: 0, temperature: 80 }] }, /temperature|additional/],
        [{ watts: 300 }, /watts|additional/],
      ] as const) {
        const res = await beat(id, telemetry);
        expectError(res, 400, undefined, JSON.stringify(telemetry));
        assert.match(res.body.message, pattern, JSON.stringify(telemetry));
      }
      assert.equal((await node(id)).telemetry, null);
      assert.deepEqual(await history(id, '10s'), []);
    });

    it('the history answers 400 for a bad step or range and 404 for an unknown node', async () => {
      const { id } = await register(t, 'tele-query');
      expectError(await t.request('GET', `/api/v1/nodes/${id}/telemetry?step=1h`), 400);
      expectError(
        await t.request(
          'GET',
          `/api/v1/nodes/${id}/telemetry?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z`,
        ),
        400,
      );
      expectError(await t.request('GET', `/api/v1/nodes/${id}/telemetry?limit=100000`), 400);
      expectError(await t.request('GET', '/api/v1/nodes/999999/telemetry'), 404, 'NOT_FOUND');
    });
  });
}
