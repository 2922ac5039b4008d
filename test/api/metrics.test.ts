import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { startEngine } from '../../src/engine/engine.js';
import { BoundedHistogram, OTHER } from '../../src/engine/metrics/labeled-series.js';
import { JOB_DEFINITION_FORMATS } from '../../src/formats/index.js';
import { TEST_DATABASES } from '../helpers/databases.js';
import { eventually } from '../helpers/eventually.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import { parsePrometheusText, type Family } from '../helpers/prometheus-text.js';
import { acquire, expectStatus, register, report, submit } from './support.js';

/*
 * Issue 17, metrics: /metrics parses as Prometheus text (a strict reader, test/helpers),
 * holds the series farm dashboards use, and its labels stay bounded: route templates, not
 * ids; pools beyond the largest 50 summed as "(other)". Where promtool is installed
 * (Debian's prometheus package), every scrape also passes `promtool check metrics`.
 */

/** Debian's prometheus package ships promtool; where it is installed, it lints the text too. */
const hasPromtool = spawnSync('promtool', ['--version']).error === undefined;

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
      if (hasPromtool) {
        const lint = spawnSync('promtool', ['check', 'metrics'], { input: res.body as string });
        assert.equal(lint.status, 0, `promtool: ${lint.stdout}${lint.stderr}`);
      }
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

    it('has queue waits and run times by pool and job type, failures by category, node gauges', async () => {
      const own = await startTestServer(database);
      const other =
        database.name === 'postgres'
          ? await startEngine({
              url: own.engine.database.url,
              ...(own.engine.database.schema ? { schema: own.engine.database.schema } : {}),
              clock: own.clock.read,
              formats: JOB_DEFINITION_FORMATS,
            })
          : undefined;
      try {
        const node = await register(own, 'gauge-node', { pools: ['comp'] });
        const beat = await own.request('POST', `/api/v1/nodes/${node.id}/heartbeat`, {
          telemetry: {
            cpuPercent: 37.5,
            memUsedBytes: 2 ** 30,
            memTotalBytes: 2 ** 34,
            load1: 1.5,
            gpus: [{ index: 0, utilizationPercent: 80, memUsedBytes: 2 ** 29 }],
          },
        });
        expectStatus(beat, 200);
        await submit(own, { name: 'c', pool: 'comp', frames: '1-2', chunkSize: 1, maxTries: 1 });
        const ended: number[] = [];
        const unsubscribe = other?.ctx.bus.subscribe((e) => {
          if (e.type === 'execution.state' && (e.to === 'COMPLETED' || e.to === 'FAILED')) {
            ended.push(e.executionId);
          }
        });
        own.clock.advance(12_000);
        const first = await acquire(own, node.id);
        const nodeId = node.id;
        expectStatus(await report(own, first.execution.id, 'start', { nodeId }), 200);
        own.clock.advance(45_000);
        const done = { nodeId, success: true, exitCode: 0 };
        expectStatus(await report(own, first.execution.id, 'finish', done), 200);
        const second = await acquire(own, node.id);
        expectStatus(await report(own, second.execution.id, 'start', { nodeId }), 200);
        const failed = { nodeId, success: false, exitCode: 3, error: { category: 'SYSTEM' } };
        expectStatus(await report(own, second.execution.id, 'finish', failed), 200);

        const res = expectStatus(await own.request('GET', '/metrics'), 200);
        const m = parsePrometheusText(res.body as string);
        const comp = { pool: 'comp', job_type: 'command-line' };
        const wait = m.get('drover_task_queue_wait_seconds');
        assert.equal(wait?.type, 'histogram');
        // Waits of 12 s and 57 s.
        assert.equal(byLabels(wait, { ...comp, le: '10' }), 0);
        assert.equal(byLabels(wait, { ...comp, le: '30' }), 1);
        assert.equal(byLabels(wait, { ...comp, le: '60' }), 2);
        assert.equal(
          wait?.samples.find((s) => s.name.endsWith('_sum') && s.labels.pool === 'comp')?.value,
          69,
        );
        const run = m.get('drover_task_run_duration_seconds');
        assert.equal(run?.type, 'histogram');
        assert.equal(byLabels(run, { ...comp, le: '30' }), 0);
        assert.equal(byLabels(run, { ...comp, le: '60' }), 1);
        assert.equal(byLabels(run, { ...comp, le: '+Inf' }), 1, 'the failed run is not a run time');
        const failures = m.get('drover_execution_failures_total');
        assert.equal(failures?.type, 'counter');
        assert.equal(byLabels(failures, { ...comp, category: 'SYSTEM' }), 1);
        assert.equal(byLabels(m.get('drover_nodes'), { state: 'IDLE' }), 1);
        const g = { node: 'gauge-node' };
        assert.equal(byLabels(m.get('drover_node_cpu_percent'), g), 37.5);
        assert.equal(byLabels(m.get('drover_node_memory_used_bytes'), g), 2 ** 30);
        assert.equal(byLabels(m.get('drover_node_memory_total_bytes'), g), 2 ** 34);
        assert.equal(byLabels(m.get('drover_node_load1'), g), 1.5);
        assert.equal(
          byLabels(m.get('drover_node_gpu_utilization_percent'), { ...g, gpu: '0' }),
          80,
        );
        assert.equal(
          m.get('drover_node_gpu_memory_total_bytes')?.samples.length,
          0,
          'not reported, not invented',
        );
        assert.equal(m.get('drover_node_disk_free_bytes')?.samples.length, 0);

        if (other) {
          // The other replica heard both ends over the bus, and counts neither: summed over
          // replicas, each end counts once.
          await eventually(() => assert.equal(ended.length, 2));
          unsubscribe?.();
          await other.farm.flush();
          const theirs = parsePrometheusText(`${other.farm.render().join('\n')}\n`);
          assert.equal(theirs.get('drover_task_run_duration_seconds')?.samples.length, 0);
          assert.equal(theirs.get('drover_execution_failures_total')?.samples.length, 0);
        }
      } finally {
        await other?.close();
        await own.close();
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

describe('bounded series', () => {
  it('count label sets past the cap as "(other)", and render strict text', () => {
    const h = new BoundedHistogram('x_seconds', 'X.', ['pool', 'job_type'], 2, [1, 10]);
    h.observe({ pool: 'a', job_type: 't' }, 0.5);
    h.observe({ pool: 'b', job_type: 't' }, 5);
    h.observe({ pool: 'c', job_type: 't' }, 50);
    h.observe({ pool: 'd "quoted"', job_type: 't' }, 2);
    h.observe({ pool: 'a', job_type: 't' }, 3);
    // Real "(other)" values share the overflow's series: one sample per label set.
    h.observe({ pool: OTHER, job_type: OTHER }, 7);
    const family = parsePrometheusText(`${h.render().join('\n')}\n`).get('x_seconds')!;
    const pools = new Set(family.samples.map((s) => s.labels.pool));
    assert.deepEqual([...pools].sort(), ['(other)', 'a', 'b']);
    assert.equal(byLabels(family, { pool: '(other)', le: '+Inf' }), 3);
    assert.equal(byLabels(family, { pool: '(other)', le: '10' }), 2);
    // A label set seen again adds to its own series.
    assert.equal(byLabels(family, { pool: 'a', le: '+Inf' }), 2);
    assert.equal(byLabels(family, { pool: 'a', le: '1' }), 1);
    assert.deepEqual(
      family.samples.filter((s) => s.name === 'x_seconds_count').map((s) => s.labels.pool),
      ['(other)', 'a', 'b'],
    );
  });
});

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

  it('refuses what promtool lints: counters without _total, repeats, mixed label names', () => {
    const counter = (name: string, samples: string) =>
      `# HELP ${name} C.\n# TYPE ${name} counter\n${samples}\n`;
    assert.equal(
      parsePrometheusText(counter('c_total', 'c_total{a="1"} 1\nc_total{a="2"} 2')).size,
      1,
    );
    assert.throws(() => parsePrometheusText(counter('c', 'c 1')), /_total/);
    assert.throws(
      () => parsePrometheusText(counter('c_total', 'c_total{a="1"} 1\nc_total{a="1"} 2')),
      /twice/,
    );
    assert.throws(
      () => parsePrometheusText(counter('c_total', 'c_total{a="1"} 1\nc_total{b="1"} 2')),
      /different label names/,
    );
  });
});
