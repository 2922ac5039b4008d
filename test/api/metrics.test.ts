import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import { parsePrometheusText, type Family } from '../helpers/prometheus-text.js';
import { acquire, expectStatus, register, submit } from './support.js';

/*
 * Issue 17, metrics: /metrics parses as Prometheus text (a strict reader, test/helpers),
 * holds the series farm dashboards use, and its labels stay bounded: route templates, not
 * ids; pools beyond the largest 50 summed as "(other)".
 */

const byLabels = (family: Family | undefined, labels: Record<string, string>) =>
  family?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

for (const database of TEST_DATABASES) {
  describe(`metrics (${database.name})`, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(database);
    });
    after(async () => {
      await t?.close();
    });

    const scrape = async () => {
      const res = expectStatus(await t.request('GET', '/metrics'), 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      return parsePrometheusText(res.body as string);
    };

    it('parses, and has tasks by pool and state, HTTP by route and status, event-loop lag', async () => {
      const node = await register(t, 'm-node', { pools: ['render'] });
      await submit(t, { name: 'r', pool: 'render', frames: '1-3', chunkSize: 1 });
      await submit(t, { name: 'plain', frames: '1-2', chunkSize: 1 });
      await acquire(t, node.id);
      for (let i = 0; i < 3; i++) await t.request('GET', `/api/v1/jobs/${1000 + i}`);

      const m = await scrape();
      const pool = m.get('drover_pool_tasks');
      assert.equal(pool?.type, 'gauge');
      assert.equal(byLabels(pool, { pool: 'render', state: 'RUNNING' }), 1);
      assert.equal(byLabels(pool, { pool: 'render', state: 'QUEUED' }), 2);
      assert.equal(byLabels(pool, { pool: '', state: 'QUEUED' }), 2);

      const requests = m.get('drover_http_requests_total');
      assert.equal(requests?.type, 'counter');
      // Three 404s of three jobs: one series, by the route's template.
      assert.equal(
        byLabels(requests, { method: 'GET', route: '/api/v1/jobs/:id', status: '404' }),
        3,
      );
      assert.equal(byLabels(requests, { method: 'POST', route: '/api/v1/jobs', status: '201' }), 2);
      const latency = m.get('drover_http_request_duration_seconds');
      assert.equal(latency?.type, 'histogram');
      assert.equal(byLabels(latency, { route: '/api/v1/jobs/:id', le: '+Inf', method: 'GET' }), 3);
      for (const name of [
        'drover_event_loop_lag_p50_seconds',
        'drover_event_loop_lag_p99_seconds',
        'drover_event_loop_lag_max_seconds',
      ]) {
        const lag = m.get(name)?.samples[0]?.value;
        assert.ok(lag !== undefined && lag >= 0, name);
      }
      for (const name of [
        'drover_jobs',
        'drover_tasks',
        'drover_nodes',
        'drover_dispatches_total',
        'drover_dispatch_latency_seconds',
      ]) {
        assert.ok(m.has(name), name);
      }
      // No label holds an id: every value is a name, a template, a state or a bound.
      for (const family of m.values()) {
        for (const s of family.samples) {
          for (const [k, v] of Object.entries(s.labels)) {
            if (k === 'le' || k === 'status') continue;
            assert.doesNotMatch(v, /\/\d+(\/|$)/, `${family.name} ${k}=${v}`);
          }
        }
      }
    });

    it('keeps pools to the largest 50 and the rest as "(other)"', async () => {
      for (let i = 0; i < 55; i++) {
        await submit(t, {
          name: `p${i}`,
          pool: `pool-${String(i).padStart(2, '0')}`,
          frames: `1-${i + 1}`,
          chunkSize: 1,
        });
      }
      const pool = (await scrape()).get('drover_pool_tasks')!;
      const pools = new Set(pool.samples.map((s) => s.labels.pool));
      assert.equal(pools.size, 51);
      assert.ok(pools.has('(other)'));
      // The smallest pools went to "(other)": pool-00 … pool-04 and the two pools of the
      // first test (3 and 2 tasks) are among the 57; the 50 largest are pool-05 … pool-54.
      assert.ok(pools.has('pool-54') && !pools.has('pool-00'));
      const other = byLabels(pool, { pool: '(other)', state: 'QUEUED' });
      // pool-00..04 hold 1+2+3+4+5 queued tasks, "" holds 2 and render 2 (one is running).
      assert.equal(other, 15 + 2 + 2);
    });
  });
}

describe('the Prometheus text reader', () => {
  const family = (samples: string) =>
    `# HELP x_seconds X.\n# TYPE x_seconds histogram\n${samples}\n`;
  it('takes a well-formed histogram and refuses broken ones', () => {
    const ok =
      'x_seconds_bucket{le="1"} 1\nx_seconds_bucket{le="+Inf"} 2\nx_seconds_sum 3\nx_seconds_count 2';
    assert.equal(parsePrometheusText(family(ok)).get('x_seconds')?.samples.length, 4);
    assert.throws(() => parsePrometheusText(family(ok.replace('_count 2', '_count 3'))), /\+Inf/);
    assert.throws(() => parsePrometheusText(family(ok.replace('le="1"} 1', 'le="1"} 5'))), /falls/);
    assert.throws(() => parsePrometheusText('y 1\n'), /before any TYPE/);
    assert.throws(() => parsePrometheusText(family(ok.replace('le="1"', 'le="1",9bad="x"'))));
  });
});
