/* eslint-disable @typescript-eslint/no-explicit-any -- the dashboard is read as plain JSON */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import { parsePrometheusText } from '../helpers/prometheus-text.js';
import { acquire, expectStatus, register, report, submit } from './support.js';

/*
 * docs/grafana-dashboard.json asks only for series /metrics serves, by labels they carry:
 * a farm with a node reporting telemetry (a GPU too), a completed and a failed execution is
 * scraped, and every metric and label each panel's query names must be in it.
 */

const dashboard = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'grafana-dashboard.json'), 'utf8'),
);

/** Every query of every panel. */
const queries: { panel: string; expr: string }[] = dashboard.panels.flatMap((p: any) =>
  (p.targets ?? []).map((t: any) => ({ panel: p.title, expr: t.expr as string })),
);

/** Labels Prometheus adds or histograms carry, not /metrics' own. */
const OUTSIDE = new Set(['le', 'instance', 'job']);

for (const database of TEST_DATABASES) {
  describe(`the Grafana dashboard (${database.name})`, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(database);
    });
    after(async () => {
      await t?.close();
    });

    it('queries only series and labels that /metrics serves', async () => {
      assert.ok(queries.length >= 15, `${queries.length} queries`);
      const node = await register(t, 'dash-node', { pools: ['comp'] });
      expectStatus(
        await t.request('POST', `/api/v1/nodes/${node.id}/heartbeat`, {
          telemetry: {
            cpuPercent: 10,
            memUsedBytes: 1,
            memTotalBytes: 2,
            load1: 0.5,
            diskFreeBytes: 3,
            gpus: [{ index: 0, utilizationPercent: 5, memUsedBytes: 1, memTotalBytes: 2 }],
          },
        }),
        200,
      );
      await submit(t, { name: 'd', pool: 'comp', frames: '1-2', chunkSize: 1, maxTries: 1 });
      for (const success of [true, false]) {
        const order = await acquire(t, node.id);
        const nodeId = node.id;
        expectStatus(await report(t, order.execution.id, 'start', { nodeId }), 200);
        const finish = { nodeId, success, exitCode: success ? 0 : 1 };
        expectStatus(await report(t, order.execution.id, 'finish', finish), 200);
      }
      const m = parsePrometheusText(
        expectStatus(await t.request('GET', '/metrics'), 200).body as string,
      );

      for (const { panel, expr } of queries) {
        const metrics = expr.match(/drover_[a-z0-9_]+/g) ?? [];
        assert.ok(metrics.length > 0, `${panel}: no drover series in ${expr}`);
        const labels = new Set<string>();
        for (const [, list] of expr.matchAll(/by \(([^)]*)\)/g)) {
          for (const l of list!.split(',')) labels.add(l.trim());
        }
        for (const [, l] of expr.matchAll(/([a-z_]+)=~?"/g)) labels.add(l!);
        for (const name of metrics) {
          const family = m.get(name.replace(/_(bucket|sum|count)$/, '')) ?? m.get(name);
          assert.ok(family, `${panel}: /metrics has no ${name}`);
          const carried = new Set(family.samples.flatMap((s) => Object.keys(s.labels)));
          assert.ok(family.samples.length > 0, `${panel}: ${name} has no samples`);
          for (const label of labels) {
            if (OUTSIDE.has(label)) continue;
            assert.ok(carried.has(label), `${panel}: ${name} carries no label ${label}`);
          }
        }
      }
      // The pool variable reads a label /metrics carries.
      const pool = dashboard.templating.list.find((v: any) => v.name === 'pool');
      assert.equal(pool.definition, 'label_values(drover_pool_tasks, pool)');
      assert.ok(m.get('drover_pool_tasks')?.samples.some((s) => s.labels.pool === 'comp'));
    });
  });
}
