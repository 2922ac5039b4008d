import { useState } from 'react';
import { operatorApi } from '../api/operator-endpoints';
import { ago } from '../lib/format';
import { useLoad } from '../lib/hooks';
import { describeError, ErrorMessage } from './ErrorMessage';
import type { NoticeText } from './Notice';

/**
 * The nodes that failed this job (GET /jobs/:id/node-failures), those its badNodeFailures
 * blocked marked so, with a way to let one node, or all, take the job again.
 */
export function BadNodes({
  jobId,
  version,
  onNotice,
}: {
  jobId: number;
  version: string;
  onNotice: (notice: NoticeText) => void;
}) {
  const failures = useLoad(() => operatorApi.nodeFailures(jobId), [jobId, version]);
  const [busy, setBusy] = useState(false);
  const items = failures.data?.items ?? [];

  const clear = async (nodeId?: number, name?: string) => {
    setBusy(true);
    try {
      const { unblocked } = await operatorApi.clearNodeFailures(jobId, nodeId);
      onNotice({
        text: `Cleared the failures of ${name ?? 'every node'}: ${unblocked} blocked ${
          unblocked === 1 ? 'node' : 'nodes'
        } may take the job again.`,
        failed: false,
      });
      failures.reload();
    } catch (error) {
      onNotice({ text: describeError(error), failed: true });
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="bad-nodes" data-section="bad-nodes">
      <h3>Nodes that failed it</h3>
      <ErrorMessage error={failures.error} onRetry={failures.reload} />
      {failures.data && items.length === 0 && <p className="muted">No node has failed this job.</p>}
      {items.length > 0 && (
        <>
          <table className="compact">
            <thead>
              <tr>
                <th>Node</th>
                <th className="num">Failures</th>
                <th>Last</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {items.map((f) => {
                const name = f.nodeName ?? `node ${f.nodeId}`;
                return (
                  <tr key={f.nodeId} data-bad-node={f.nodeId}>
                    <td>
                      {name}{' '}
                      {f.blocked && (
                        <span className="badge state-failed" title="It no longer takes this job">
                          blocked
                        </span>
                      )}
                    </td>
                    <td className="num">{f.failures}</td>
                    <td className="time">{ago(f.lastFailureAt)}</td>
                    <td>
                      <button
                        type="button"
                        disabled={busy}
                        onClick={() => void clear(f.nodeId, name)}
                      >
                        Clear
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          <button type="button" disabled={busy} onClick={() => void clear()}>
            Clear all
          </button>
        </>
      )}
    </div>
  );
}
