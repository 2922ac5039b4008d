import { useState } from 'react';
import { api } from '../api/endpoints';
import { useEvents } from '../api/events';
import type { DroverNode, Execution, NodeTelemetry } from '../api/types';
import { describeError, ErrorMessage } from '../components/ErrorMessage';
import { LiveBadge } from '../components/LiveBadge';
import { Notice, type NoticeText } from '../components/Notice';
import { StateBadge } from '../components/StateBadge';
import { ago, formatBytes } from '../lib/format';
import { useLoad, useNow, useThrottle } from '../lib/hooks';
import { href } from '../lib/router';

/** CPU, memory and GPU use as the node last reported them; a dash when it reported none. */
function usageOf(t: NodeTelemetry | null | undefined): string {
  if (!t) return '—';
  const parts: string[] = [];
  if (t.cpuPercent !== undefined) parts.push(`${Math.round(t.cpuPercent)}% CPU`);
  if (t.memUsedBytes !== undefined && t.memTotalBytes) {
    parts.push(`${formatBytes(t.memUsedBytes)} / ${formatBytes(t.memTotalBytes)}`);
  }
  for (const g of t.gpus ?? []) {
    if (g.utilizationPercent !== undefined) {
      parts.push(`GPU ${g.index} ${Math.round(g.utilizationPercent)}%`);
    }
  }
  return parts.join(' · ') || '—';
}

/** Nodes with what they are running: the executions' jobs and tasks, looked up together. */
async function loadNodes(): Promise<{ nodes: DroverNode[]; running: Map<number, Execution> }> {
  const nodes = (await api.nodes()).items;
  const ids = nodes.flatMap((n) => n.currentExecutions);
  const executions = await Promise.all(ids.map((e) => api.execution(e).catch(() => undefined)));
  const running = new Map<number, Execution>();
  for (const e of executions) if (e) running.set(e.id, e);
  return { nodes, running };
}

export function NodesPage() {
  const data = useLoad(loadNodes, []);
  const [notice, setNotice] = useState<NoticeText>();
  const [busy, setBusy] = useState<number>();
  useNow(5000);
  const refresh = useThrottle(data.reload, 1000);
  const live = useEvents(['node', 'execution'], refresh);

  const setEnabled = async (node: DroverNode, enabled: boolean) => {
    setBusy(node.id);
    try {
      await api.setNodeEnabled(node.id, enabled);
      setNotice({ text: `${enabled ? 'Enabled' : 'Disabled'} ${node.name}.`, failed: false });
      data.reload();
    } catch (error) {
      setNotice({ text: `${node.name}: ${describeError(error)}`, failed: true });
    } finally {
      setBusy(undefined);
    }
  };

  const nodes = data.data?.nodes ?? [];
  return (
    <div className="page">
      <div className="page-head">
        <h1>Nodes</h1>
        <LiveBadge live={live} />
      </div>
      <Notice notice={notice} onClose={() => setNotice(undefined)} />
      <ErrorMessage error={data.error} onRetry={data.reload} />
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th>Name</th>
              <th>Host</th>
              <th>Status</th>
              <th>Pools</th>
              <th>Groups</th>
              <th>Resources</th>
              <th>Usage</th>
              <th>Running</th>
              <th>Last heartbeat</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {nodes.map((n) => (
              <tr key={n.id} data-node={n.id}>
                <td>{n.name}</td>
                <td>{n.hostname}</td>
                <td>
                  <StateBadge state={n.status} />
                </td>
                <td>{n.pools.join(', ') || <span className="muted">any</span>}</td>
                <td>{n.groups.join(', ') || <span className="muted">any</span>}</td>
                <td className="time">
                  {n.resources.cpus} CPU · {formatBytes(n.resources.mem * 1024 * 1024)}
                  {n.resources.gpus ? ` · ${n.resources.gpus} GPU` : ''} · {n.slots}{' '}
                  {n.slots === 1 ? 'slot' : 'slots'}
                </td>
                <td className="time" data-usage>
                  {usageOf(n.telemetry)}
                </td>
                <td>
                  {n.currentExecutions.length === 0 ? (
                    <span className="muted">idle</span>
                  ) : (
                    n.currentExecutions.map((id) => {
                      const e = data.data?.running.get(id);
                      return e ? (
                        <a
                          key={id}
                          href={href(`/jobs/${e.jobId}`, {
                            task: String(e.taskId),
                            exe: String(id),
                          })}
                        >
                          job {e.jobId} task {e.taskId}{' '}
                        </a>
                      ) : (
                        <span key={id}>execution {id} </span>
                      );
                    })
                  )}
                </td>
                <td className="time">{ago(n.lastHeartbeat)}</td>
                <td>
                  <button
                    type="button"
                    disabled={busy === n.id}
                    onClick={() => void setEnabled(n, !n.enabled)}
                  >
                    {n.enabled ? 'Disable' : 'Enable'}
                  </button>
                </td>
              </tr>
            ))}
            {!data.loading && nodes.length === 0 && (
              <tr>
                <td colSpan={9} className="empty">
                  No node has registered. Start one with{' '}
                  <code>drover worker --server {location.origin}</code>, or run the server with{' '}
                  <code>--local-workers 1</code>.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
    </div>
  );
}
