import { useMemo, useState } from 'react';
import { authHeaders, query } from '../api/client';
import { operatorApi, type UsageGroup } from '../api/operator-endpoints';
import { ErrorMessage } from '../components/ErrorMessage';
import { formatBytes } from '../lib/format';
import { useLoad } from '../lib/hooks';

/*
 * What the farm's executions used (GET /usage), by user, pool, job type or job, over the
 * last day to the last 90 days: the same numbers as `drover usage` and the CSV export. A
 * user sees their own jobs', an admin everyone's (the server decides).
 */

const GROUPS: { value: UsageGroup; label: string }[] = [
  { value: 'user', label: 'User' },
  { value: 'pool', label: 'Pool' },
  { value: 'jobType', label: 'Job type' },
  { value: 'job', label: 'Job' },
];
const RANGES = [1, 7, 30, 90];

const hours = (h: number | null) =>
  h === null ? '—' : h < 0.01 && h > 0 ? '< 0.01' : h.toFixed(2);

/** Fetches the CSV with the caller's token (a plain link would not carry it) and saves it. */
async function downloadCsv(group: UsageGroup, from: string, to: string): Promise<void> {
  const res = await fetch(`/api/v1/usage${query({ group, from, to, format: 'csv' })}`, {
    headers: authHeaders(),
  });
  if (!res.ok) throw new Error(`the server answered ${res.status}`);
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = `usage-${group}.csv`;
  a.click();
  URL.revokeObjectURL(url);
}

export function UsagePage() {
  const [group, setGroup] = useState<UsageGroup>('user');
  const [days, setDays] = useState(30);
  const [csvError, setCsvError] = useState<unknown>();
  // The range is fixed when the choice is made, so reloads ask for the same one.
  const range = useMemo(() => {
    const to = new Date(Math.ceil(Date.now() / 1000) * 1000);
    return {
      from: new Date(to.getTime() - days * 24 * 3600_000).toISOString(),
      to: to.toISOString(),
    };
  }, [days, group]);
  const usage = useLoad(() => operatorApi.usage(group, range.from, range.to), [group, range]);
  const report = usage.data;
  return (
    <section className="card" data-page="usage">
      <h2>Usage</h2>
      <div className="toolbar">
        <label>
          By{' '}
          <select
            name="group"
            value={group}
            onChange={(e) => setGroup(e.target.value as UsageGroup)}
          >
            {GROUPS.map((g) => (
              <option key={g.value} value={g.value}>
                {g.label}
              </option>
            ))}
          </select>
        </label>{' '}
        <label>
          Over the last{' '}
          <select name="days" value={days} onChange={(e) => setDays(Number(e.target.value))}>
            {RANGES.map((d) => (
              <option key={d} value={d}>
                {d === 1 ? 'day' : `${d} days`}
              </option>
            ))}
          </select>
        </label>{' '}
        <button
          type="button"
          onClick={() =>
            downloadCsv(group, range.from, range.to).then(() => setCsvError(undefined), setCsvError)
          }
        >
          Download CSV
        </button>
      </div>
      <ErrorMessage error={usage.error ?? csvError} onRetry={usage.reload} />
      {report && report.items.length === 0 && (
        <p className="muted">No execution ended in this range.</p>
      )}
      {report && report.items.length > 0 && (
        <table className="usage-report">
          <thead>
            <tr>
              <th>{GROUPS.find((g) => g.value === report.group)?.label}</th>
              <th>Executions</th>
              <th>CPU h</th>
              <th>Wall h</th>
              <th>GPU h</th>
              <th>Peak memory</th>
            </tr>
          </thead>
          <tbody>
            {[...report.items, { ...report.totals, key: 'Total' }].map((row) => (
              <tr key={row.key} data-usage-row={row.key}>
                <td>{row.key}</td>
                <td>{row.executions.toLocaleString()}</td>
                <td data-usage="cpu">{hours(row.cpuHours)}</td>
                <td data-usage="wall">{hours(row.wallHours)}</td>
                <td data-usage="gpu">{hours(row.gpuHours)}</td>
                <td>{row.peakMemoryBytes === null ? '—' : formatBytes(row.peakMemoryBytes)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {report?.truncated && <p className="muted">Only the first 1,000 groups are shown.</p>}
    </section>
  );
}
