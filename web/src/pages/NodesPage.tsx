import { Fragment, useEffect, useState } from 'react';
import { api } from '../api/endpoints';
import { useEvents } from '../api/events';
import type { DroverNode } from '../api/types';
import { describeError, ErrorMessage } from '../components/ErrorMessage';
import { LiveBadge } from '../components/LiveBadge';
import { NodeMembershipsForm } from '../components/NodeMembershipsForm';
import { NodeUsage } from '../components/NodeUsage';
import { Notice, type NoticeText } from '../components/Notice';
import { Pager } from '../components/Pager';
import { StateBadge } from '../components/StateBadge';
import { ago, formatBytes } from '../lib/format';
import { useLoad, useNow, useThrottle } from '../lib/hooks';
import { href } from '../lib/router';
import { runningTask, taskLabel, type RunningTask } from '../lib/running-tasks';

/** A page of nodes with what they run, each execution named by its job and task. */
async function loadNodes(offset: number, limit: number) {
  const page = await api.nodes(offset, limit);
  const ids = page.items.flatMap((n) => n.currentExecutions);
  const found = await Promise.all(ids.map((e) => runningTask(e)));
  const running = new Map<number, RunningTask>();
  for (const t of found) if (t) running.set(t.executionId, t);
  return { page, running };
}

/**
 * An empty list means "only jobs with none", not "any": a node without pools takes only
 * jobs without a pool (the dispatcher's `j.pool = '' or j.pool in (…)`), and so for groups.
 */
function Memberships({ names, what }: { names: string[]; what: 'pool' | 'group' }) {
  if (names.length > 0) return <>{names.join(', ')}</>;
  return (
    <span
      className="muted"
      title={`This node belongs to no ${what}: it takes only jobs that name no ${what}.`}
    >
      no {what}: {what}-less jobs only
    </span>
  );
}

const USAGE_EVERY_MS = 30_000;

export function NodesPage() {
  const [offset, setOffset] = useState(0);
  const [limit, setLimit] = useState(50);
  const data = useLoad(() => loadNodes(offset, limit), [offset, limit]);
  const me = useLoad(() => api.whoami(), []);
  const isAdmin = me.data?.role === 'admin';
  const [notice, setNotice] = useState<NoticeText>();
  const [busy, setBusy] = useState<number>();
  const [editing, setEditing] = useState<number>();
  const [usageTick, setUsageTick] = useState(0);
  useEffect(() => {
    const id = setInterval(() => setUsageTick((t) => t + 1), USAGE_EVERY_MS);
    return () => clearInterval(id);
  }, []);
  useNow(5000);
  const refresh = useThrottle(data.reload, 1000);
  const live = useEvents(['node', 'execution'], refresh);

  const setEnabled = async (node: DroverNode, enabled: boolean) => {
    setBusy(node.id);
    try {
      await api.setNodeEnabled(node.id, enabled);
      const done = enabled
        ? node.quarantine
          ? 'Lifted the quarantine of'
          : 'Enabled'
        : 'Disabled';
      setNotice({ text: `${done} ${node.name}.`, failed: false });
      data.reload();
    } catch (error) {
      setNotice({ text: `${node.name}: ${describeError(error)}`, failed: true });
    } finally {
      setBusy(undefined);
    }
  };

  const nodes = data.data?.page.items ?? [];
  const columns = isAdmin ? 10 : 9;
  return (
    <div className="page">
      <div className="page-head">
        <h1>Nodes</h1>
        <LiveBadge live={live} />
      </div>
      <Notice notice={notice} onClose={() => setNotice(undefined)} />
      <ErrorMessage error={data.error} onRetry={data.reload} />
      <div className="table-wrap">
        <table className="nodes">
          <thead>
            <tr>
              <th>Name</th>
              <th>Host</th>
              <th>Status</th>
              <th>Pools</th>
              <th>Groups</th>
              <th>Resources</th>
              <th title="Sparklines of the last 10 minutes; figures as last reported">Usage</th>
              <th>Running</th>
              <th>Last heartbeat</th>
              {isAdmin && <th />}
            </tr>
          </thead>
          <tbody>
            {nodes.map((n) => (
              <Fragment key={n.id}>
                <tr data-node={n.id}>
                  <td>{n.name}</td>
                  <td>{n.hostname}</td>
                  <td data-column="status">
                    <StateBadge state={n.status} />
                    {n.quarantine && (
                      <span
                        className="muted quarantine-reason"
                        title={`Quarantined ${new Date(n.quarantine.since).toLocaleString()}`}
                      >
                        {n.quarantine.reason} ({ago(n.quarantine.since)})
                      </span>
                    )}
                  </td>
                  <td data-column="pools">
                    <Memberships names={n.pools} what="pool" />
                  </td>
                  <td data-column="groups">
                    <Memberships names={n.groups} what="group" />
                  </td>
                  <td className="time">
                    {n.resources.cpus} CPU · {formatBytes(n.resources.mem * 1024 * 1024)}
                    {n.resources.gpus ? ` · ${n.resources.gpus} GPU` : ''}
                    <Capabilities capabilities={n.capabilities} />
                  </td>
                  <td data-column="usage">
                    <NodeUsage
                      nodeId={n.id}
                      tick={usageTick}
                      latest={n.telemetry}
                      gpus={n.resources.gpus ?? 0}
                    />
                  </td>
                  <td data-column="running">
                    <span className="muted slots">
                      {n.currentExecutions.length}/{n.slots} {n.slots === 1 ? 'slot' : 'slots'}
                    </span>
                    {n.currentExecutions.map((id) => {
                      const t = data.data?.running.get(id);
                      return t ? (
                        <a
                          key={id}
                          className="running-task"
                          href={href(`/jobs/${t.jobId}`, {
                            task: String(t.taskId),
                            exe: String(id),
                          })}
                        >
                          {taskLabel(t)}
                        </a>
                      ) : (
                        <span key={id} className="running-task">
                          execution {id}
                        </span>
                      );
                    })}
                  </td>
                  <td className="time">{ago(n.lastHeartbeat)}</td>
                  {isAdmin && (
                    <td className="node-actions">
                      <button
                        type="button"
                        disabled={busy === n.id}
                        onClick={() => void setEnabled(n, !n.enabled)}
                      >
                        {n.enabled ? 'Disable' : n.quarantine ? 'Lift quarantine' : 'Enable'}
                      </button>
                      <button
                        type="button"
                        aria-expanded={editing === n.id}
                        onClick={() => setEditing(editing === n.id ? undefined : n.id)}
                      >
                        Pools &amp; groups
                      </button>
                    </td>
                  )}
                </tr>
                {isAdmin && editing === n.id && (
                  <tr className="editor-row">
                    <td colSpan={columns}>
                      <NodeMembershipsForm
                        node={n}
                        onCancel={() => setEditing(undefined)}
                        onSaved={(saved) => {
                          setEditing(undefined);
                          setNotice({
                            text: `Saved ${saved.name}: pools ${saved.pools.join(', ') || 'none'}; groups ${saved.groups.join(', ') || 'none'}.`,
                            failed: false,
                          });
                          data.reload();
                        }}
                      />
                    </td>
                  </tr>
                )}
              </Fragment>
            ))}
            {!data.loading && nodes.length === 0 && (
              <tr>
                <td colSpan={columns} className="empty">
                  No node has registered. Start one with{' '}
                  <code>drover worker --server {location.origin}</code>, or run the server with{' '}
                  <code>--local-workers 1</code>.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      {data.data && data.data.page.total > 25 && (
        <Pager
          total={data.data.page.total}
          shown={nodes.length}
          offset={offset}
          limit={limit}
          onPage={setOffset}
          onSize={(n) => {
            setLimit(n);
            setOffset(0);
          }}
        />
      )}
    </div>
  );
}

/**
 * What the node's worker reported for OpenJD host requirements, one small line: the OS and
 * CPU values alone (linux · x86_64), any other attribute or amount as name=value.
 */
function Capabilities({ capabilities }: { capabilities: DroverNode['capabilities'] }) {
  const standard = ['attr.worker.os.family', 'attr.worker.cpu.arch'];
  const parts = [
    ...standard.flatMap((name) => capabilities.attributes[name] ?? []),
    ...Object.entries(capabilities.attributes)
      .filter(([name]) => !standard.includes(name))
      .map(([name, values]) => `${name}=${values.join(',')}`),
    ...Object.entries(capabilities.amounts).map(([name, value]) => `${name}=${value}`),
  ];
  if (parts.length === 0) return null;
  return (
    <div className="muted capabilities" data-column="capabilities">
      {parts.join(' · ')}
    </div>
  );
}
