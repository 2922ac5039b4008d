import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';

/*
 * What /metrics tells of this process's HTTP traffic and event loop. Labels are the route's
 * template (`/api/v1/jobs/:id`, never the id), the method and the status, so the series are
 * as many as the routes an application registered; a request no route took counts under
 * route "(unmatched)".
 */

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

interface RouteSeries {
  method: string;
  route: string;
  /** Requests per status code. */
  statuses: Map<number, number>;
  buckets: number[];
  count: number;
  sum: number;
}

export class HttpMetrics {
  private readonly series = new Map<string, RouteSeries>();
  private readonly loop: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });

  constructor() {
    this.loop.enable();
  }

  /** Counts every answer of `app` from now on. */
  watch(app: FastifyInstance): void {
    // A hook with a callback, not async: every request runs it (see input-guards.ts).
    app.addHook('onResponse', (request, reply, done) => {
      const route = request.routeOptions.url ?? '(unmatched)';
      this.record(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
      done();
    });
    app.addHook('onClose', async () => this.loop.disable());
  }

  record(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${route}`;
    let s = this.series.get(key);
    if (!s) {
      s = { method, route, statuses: new Map(), buckets: BUCKETS.map(() => 0), count: 0, sum: 0 };
      this.series.set(key, s);
    }
    s.statuses.set(status, (s.statuses.get(status) ?? 0) + 1);
    BUCKETS.forEach((le, i) => {
      if (seconds <= le) s.buckets[i]!++;
    });
    s.count++;
    s.sum += seconds;
  }

  /** The Prometheus text of the series; the event loop's figures cover the time since the last call. */
  render(): string[] {
    const lines = [
      '# HELP drover_http_requests_total HTTP requests answered by this process, by route template and status.',
      '# TYPE drover_http_requests_total counter',
    ];
    const all = [...this.series.values()].sort((a, b) =>
      `${a.route} ${a.method}`.localeCompare(`${b.route} ${b.method}`),
    );
    for (const s of all) {
      for (const [status, n] of [...s.statuses].sort((a, b) => a[0] - b[0])) {
        lines.push(`drover_http_requests_total{${labels(s)},status="${status}"} ${n}`);
      }
    }
    lines.push(
      '# HELP drover_http_request_duration_seconds Time from a request to its answer, by route template.',
      '# TYPE drover_http_request_duration_seconds histogram',
    );
    for (const s of all) {
      BUCKETS.forEach((le, i) =>
        lines.push(
          `drover_http_request_duration_seconds_bucket{${labels(s)},le="${le}"} ${s.buckets[i]}`,
        ),
      );
      lines.push(
        `drover_http_request_duration_seconds_bucket{${labels(s)},le="+Inf"} ${s.count}`,
        `drover_http_request_duration_seconds_sum{${labels(s)}} ${s.sum}`,
        `drover_http_request_duration_seconds_count{${labels(s)}} ${s.count}`,
      );
    }
    const ns = (v: number): number => (Number.isFinite(v) ? v / 1e9 : 0);
    const h = this.loop;
    lines.push(
      "# HELP drover_event_loop_lag_p50_seconds Median delay of this process's event loop since the last scrape.",
      '# TYPE drover_event_loop_lag_p50_seconds gauge',
      `drover_event_loop_lag_p50_seconds ${h.count > 0 ? ns(h.percentile(50)) : 0}`,
      '# HELP drover_event_loop_lag_p99_seconds 99th percentile delay of the event loop since the last scrape.',
      '# TYPE drover_event_loop_lag_p99_seconds gauge',
      `drover_event_loop_lag_p99_seconds ${h.count > 0 ? ns(h.percentile(99)) : 0}`,
      '# HELP drover_event_loop_lag_max_seconds Longest delay of the event loop since the last scrape.',
      '# TYPE drover_event_loop_lag_max_seconds gauge',
      `drover_event_loop_lag_max_seconds ${h.count > 0 ? ns(h.max) : 0}`,
    );
    h.reset();
    return lines;
  }
}

function labels(s: RouteSeries): string {
  return `method="${s.method}",route="${escape(s.route)}"`;
}

/** A label value as the text format wants it. */
export function escape(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
