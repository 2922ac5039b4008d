import { useMemo } from 'react';
import { operatorApi } from '../api/operator-endpoints';
import { formatBytes } from '../lib/format';
import { useLoad } from '../lib/hooks';
import { ErrorMessage } from './ErrorMessage';

const hours = (h: number) => (h < 0.01 && h > 0 ? '< 0.01 h' : `${h.toFixed(2)} h`);

/**
 * What the job's ended executions used, as the nodes measured it (GET /usage?job=…, from
 * the job's creation to now). `version` reloads it: the page moves it when executions end.
 */
export function JobUsage({
  jobId,
  since,
  version,
}: {
  jobId: number;
  since: string | null;
  version: string;
}) {
  // A job without a creation time (from before it was kept): the report's widest range.
  const from = useMemo(
    () => since ?? new Date(Date.now() - 3650 * 24 * 3600_000).toISOString(),
    [since],
  );
  const usage = useLoad(() => operatorApi.jobUsage(jobId, from), [jobId, from, version]);
  const t = usage.data?.totals;
  return (
    <div className="job-usage" data-section="usage">
      <h3>Usage</h3>
      <ErrorMessage error={usage.error} onRetry={usage.reload} />
      {t && t.executions === 0 && <p className="muted">No execution has ended yet.</p>}
      {t && t.executions > 0 && (
        <dl className="usage-figures">
          <dt>CPU</dt>
          <dd data-usage="cpu">{hours(t.cpuHours)}</dd>
          <dt>Wall</dt>
          <dd data-usage="wall">{hours(t.wallHours)}</dd>
          <dt>GPU</dt>
          <dd data-usage="gpu">
            {t.gpuHours === null ? <span className="muted">none reported</span> : hours(t.gpuHours)}
          </dd>
          <dt>Peak memory</dt>
          <dd>
            {t.peakMemoryBytes === null ? (
              <span className="muted">not reported</span>
            ) : (
              formatBytes(t.peakMemoryBytes)
            )}
          </dd>
          <dt>Executions</dt>
          <dd data-usage="executions">{t.executions.toLocaleString()}</dd>
        </dl>
      )}
    </div>
  );
}
