import type { FastifyPluginAsync } from 'fastify';
import { NODE_STATUSES } from '../../domain/node-status.js';
import { passwordChecksSoFar } from '../../engine/accounts/accounts.js';
import { DispatchMetrics } from '../../engine/dispatch/metrics.js';
import type { Engine } from '../../engine/engine.js';
import { latestNodeTelemetry } from '../../store/execution-metrics.js';
import { countJobsByState } from '../../store/jobs.js';
import { countNodesByStatus } from '../../store/nodes.js';
import { countUnsentNotifications } from '../../store/notification-outbox.js';
import { countTasksByPoolAndState } from '../../store/tasks.js';
import { escape, type HttpMetrics } from '../http-metrics.js';
import { limitGauges } from './limit-gauges.js';
import { MAX_NODE_SERIES, nodeGauges } from './node-gauges.js';

const STATES = ['PENDING', 'QUEUED', 'RUNNING', 'SUSPENDED', 'COMPLETED', 'FAILED', 'CANCELED'];

/** Pools shown by name in drover_pool_tasks; the others are summed as pool "(other)". */
const MAX_POOLS = 50;

/** Prometheus text format: state gauges read from the database, dispatch figures of this replica. */
export function metricsRoute(engine: Engine, http?: HttpMetrics): FastifyPluginAsync {
  return async (app) => {
    app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
      const [jobs, nodes, pools, telemetry, unsent, limits] = await Promise.all([
        countJobsByState(engine.ctx.db),
        countNodesByStatus(engine.ctx.db),
        countTasksByPoolAndState(engine.ctx.db, MAX_POOLS),
        latestNodeTelemetry(engine.ctx.db, MAX_NODE_SERIES),
        countUnsentNotifications(engine.ctx.db),
        limitGauges(engine.ctx.db),
      ]);
      // Every end committed before the scrape is in its series.
      await engine.farm.flush();
      // Every job not deleted is in one pool ("" included), and the pools past MAX_POOLS are
      // summed as "(other)": the totals are the pools' sums, without a second scan of jobs.
      const tasks: Record<string, number> = {};
      for (const { counts } of pools) {
        for (const [state, n] of Object.entries(counts)) tasks[state] = (tasks[state] ?? 0) + n;
      }
      const m = engine.metrics;
      const lines: string[] = [
        '# HELP drover_jobs Jobs by state (deleted jobs excluded).',
        '# TYPE drover_jobs gauge',
        ...STATES.map((s) => `drover_jobs{state="${s}"} ${jobs[s] ?? 0}`),
        '# HELP drover_tasks Tasks by state (of jobs not deleted).',
        '# TYPE drover_tasks gauge',
        ...STATES.map((s) => `drover_tasks{state="${s}"} ${tasks[s] ?? 0}`),
        `# HELP drover_pool_tasks Tasks by pool ("" for none; the ${MAX_POOLS} largest pools, the rest as "(other)") and state.`,
        '# TYPE drover_pool_tasks gauge',
        ...pools.flatMap(({ pool, counts }) =>
          STATES.map(
            (s) => `drover_pool_tasks{pool="${escape(pool)}",state="${s}"} ${counts[s] ?? 0}`,
          ),
        ),
        '# HELP drover_nodes Worker nodes by status: IDLE, BUSY, DISABLED (reporting, takes no new work), QUARANTINED (disabled by its failure rate), OFFLINE (silent).',
        '# TYPE drover_nodes gauge',
        ...NODE_STATUSES.map((s) => `drover_nodes{state="${s}"} ${nodes[s]}`),
        '# HELP drover_dispatches_total Tasks handed to nodes by this replica.',
        '# TYPE drover_dispatches_total counter',
        `drover_dispatches_total ${m.dispatches}`,
        '# HELP drover_dispatch_latency_seconds Time from a task entering the queue to its dispatch.',
        '# TYPE drover_dispatch_latency_seconds histogram',
        ...DispatchMetrics.BUCKETS.map(
          (le, i) => `drover_dispatch_latency_seconds_bucket{le="${le}"} ${m.bucketCounts[i]}`,
        ),
        `drover_dispatch_latency_seconds_bucket{le="+Inf"} ${m.dispatches}`,
        `drover_dispatch_latency_seconds_sum ${m.latencySum}`,
        `drover_dispatch_latency_seconds_count ${m.dispatches}`,
        '# HELP drover_password_checks_total Password hashes (scrypt) computed by this process: logins, and Deadline Basic auth calls not served by its login cache.',
        '# TYPE drover_password_checks_total counter',
        `drover_password_checks_total ${passwordChecksSoFar()}`,
        '# HELP drover_notifications Notifications waiting to be sent (PENDING) and given up on (FAILED).',
        '# TYPE drover_notifications gauge',
        `drover_notifications{state="PENDING"} ${unsent.PENDING}`,
        `drover_notifications{state="FAILED"} ${unsent.FAILED}`,
        ...engine.farm.render(),
        ...nodeGauges(telemetry),
        ...limits,
        ...(http?.render() ?? []),
      ];
      return reply.type('text/plain; version=0.0.4').send(`${lines.join('\n')}\n`);
    });
  };
}
