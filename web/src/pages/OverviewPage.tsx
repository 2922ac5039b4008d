import { api } from '../api/endpoints';
import { useEvents } from '../api/events';
import { JOB_STATES } from '../api/types';
import { ErrorMessage } from '../components/ErrorMessage';
import { LiveBadge } from '../components/LiveBadge';
import { ThroughputChart } from '../components/ThroughputChart';
import { useLoad, useThrottle } from '../lib/hooks';
import { href } from '../lib/router';

async function loadOverview() {
  const [counts, throughput, nodes] = await Promise.all([
    api.counts(),
    api.throughput(60),
    api.nodes(0, 1000),
  ]);
  const active = nodes.items.filter((n) => n.state === 'ONLINE' && n.enabled).length;
  const busy = nodes.items.filter((n) => n.currentExecutions.length > 0).length;
  return { counts, throughput, nodes: nodes.items.length, active, busy };
}

export function OverviewPage() {
  const data = useLoad(loadOverview, []);
  const refresh = useThrottle(data.reload, 2000);
  const live = useEvents(['job', 'node', 'execution'], refresh);
  const d = data.data;
  const done = d?.throughput.minutes.reduce((sum, m) => sum + m.completed, 0) ?? 0;
  return (
    <div className="page">
      <div className="page-head">
        <h1>Overview</h1>
        <LiveBadge live={live} />
      </div>
      <ErrorMessage error={data.error} onRetry={data.reload} />
      {d && (
        <>
          <div className="cards">
            {JOB_STATES.map((s) => (
              <a
                key={s}
                className={`stat state-${s.toLowerCase()}`}
                href={href('/jobs', { state: s })}
              >
                <span className="stat-value">{(d.counts.jobs[s] ?? 0).toLocaleString()}</span>
                <span className="stat-label">{s.toLowerCase()} jobs</span>
              </a>
            ))}
            <a className="stat" href={href('/nodes')}>
              <span className="stat-value">
                {d.active}
                <small>/{d.nodes}</small>
              </span>
              <span className="stat-label">active nodes · {d.busy} busy</span>
            </a>
          </div>
          <section className="card">
            <h2>
              Tasks completed per minute{' '}
              <span className="muted">
                (last hour: {done.toLocaleString()} tasks;{' '}
                {(d.counts.tasks['RUNNING'] ?? 0).toLocaleString()} running,{' '}
                {(d.counts.tasks['QUEUED'] ?? 0).toLocaleString()} queued)
              </span>
            </h2>
            <ThroughputChart data={d.throughput} />
          </section>
        </>
      )}
    </div>
  );
}
