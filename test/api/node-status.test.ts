/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { markQuarantined } from '../../src/store/node-quarantine.js';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import { parsePrometheusText } from '../helpers/prometheus-text.js';
import { acquire, expectStatus, register, submit } from './support.js';

/*
 * Node status (issue 17): IDLE, BUSY, DISABLED, QUARANTINED and OFFLINE, derived one way
 * for the node itself, the node list, /stats and /metrics, so the three never disagree. (How
 * a failure rate quarantines a node is test/engine/node-quarantine.test.ts; here the mark
 * is set directly, and cleared through the API.)
 */

for (const database of TEST_DATABASES) {
  describe(`node status (${database.name})`, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(database);
    });
    after(async () => {
      await t?.close();
    });

    it('is IDLE, BUSY, DISABLED, QUARANTINED or OFFLINE, the same in every view', async () => {
      const idle = await register(t, 'idle');
      const busy = await register(t, 'busy');
      const disabled = await register(t, 'disabled');
      const gone = await register(t, 'gone');
      const goneDisabled = await register(t, 'gone-disabled');
      const quarantined = await register(t, 'quarantined');
      await t.engine.ctx.db
        .transaction()
        .execute((tx) => markQuarantined(tx, quarantined.id, 'failed 9 of 10', t.clock.now));
      await submit(t, { name: 'one', frames: '1' });
      const order = await acquire(t, busy.id);
      assert.ok(order, 'busy took the task');
      for (const n of [disabled, goneDisabled]) {
        expectStatus(await t.request('POST', `/api/v1/nodes/${n.id}/disable`), 200);
      }
      // Silence two nodes past the timeout while the others keep reporting (and busy keeps
      // its lease).
      for (let step = 0; step < 2; step++) {
        t.clock.advance(t.engine.settings.nodeTimeoutMs / 2 + 1);
        for (const n of [idle, busy, disabled, quarantined]) {
          const executions = n === busy ? [order.execution.id] : [];
          const beat = await t.request('POST', `/api/v1/nodes/${n.id}/heartbeat`, { executions });
          assert.deepEqual(expectStatus(beat, 200).body.stop, []);
        }
      }
      assert.equal((await t.engine.reaper.tick()).nodesOffline, 2);

      const expected: Record<string, string> = {
        idle: 'IDLE',
        busy: 'BUSY',
        disabled: 'DISABLED',
        gone: 'OFFLINE',
        'gone-disabled': 'OFFLINE',
        quarantined: 'QUARANTINED',
      };
      const list = expectStatus(await t.request('GET', '/api/v1/nodes'), 200).body.items;
      assert.deepEqual(Object.fromEntries(list.map((n: any) => [n.name, n.status])), expected);
      for (const n of [idle, busy, disabled, gone, goneDisabled, quarantined]) {
        const one = expectStatus(await t.request('GET', `/api/v1/nodes/${n.id}`), 200).body;
        assert.equal(one.status, expected[n.name], n.name);
      }

      const counts = { IDLE: 1, BUSY: 1, DISABLED: 1, QUARANTINED: 1, OFFLINE: 2 };
      const stats = expectStatus(await t.request('GET', '/api/v1/stats/counts'), 200).body;
      assert.deepEqual(stats.nodeStatuses, counts);
      const metrics = parsePrometheusText(
        expectStatus(await t.request('GET', '/metrics'), 200).body as string,
      );
      const nodes = metrics.get('drover_nodes')!;
      assert.deepEqual(
        Object.fromEntries(nodes.samples.map((s) => [s.labels.state, s.value])),
        counts,
      );

      const shown = expectStatus(await t.request('GET', `/api/v1/nodes/${quarantined.id}`), 200);
      assert.equal(shown.body.quarantine.reason, 'failed 9 of 10');
      assert.equal(shown.body.enabled, false);
      const lifted = await t.request('DELETE', `/api/v1/nodes/${quarantined.id}/quarantine`);
      assert.equal(expectStatus(lifted, 200).body.status, 'IDLE');
      assert.equal(lifted.body.quarantine, null);
      assert.equal(lifted.body.enabled, true);
      const again = await t.request('DELETE', `/api/v1/nodes/${quarantined.id}/quarantine`);
      assert.match(expectStatus(again, 409).body.message, /is not quarantined/);
      expectStatus(await t.request('DELETE', '/api/v1/nodes/999999/quarantine'), 404);
    });
  });
}
