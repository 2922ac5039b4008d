import type { ReactNode } from 'react';
import type { Job, JobStats } from '../api/types';
import { formatDuration, formatTime } from '../lib/format';
import { elapsedMs, eta } from '../lib/job-timing';
import { href } from '../lib/router';
import { ProgressBar } from './ProgressBar';
import { StateBadge } from './StateBadge';

export interface CellContext {
  stats: JobStats | undefined;
  now: number;
}

export interface Column {
  key: string;
  label: string;
  sort?: string;
  className?: string;
  /** Shown unless the user hides it. */
  shown: boolean;
  cell: (job: Job, c: CellContext) => ReactNode;
}

const none = <span className="muted">—</span>;

export const COLUMNS: Column[] = [
  { key: 'id', label: 'ID', sort: 'id', className: 'num', shown: true, cell: (j) => j.id },
  {
    key: 'name',
    label: 'Name',
    sort: 'name',
    className: 'name',
    shown: true,
    cell: (j) => (
      <a href={href(`/jobs/${j.id}`)} title={j.name}>
        {j.name || <span className="muted">(no name)</span>}
      </a>
    ),
  },
  { key: 'type', label: 'Type', shown: true, cell: (j) => j.type.name },
  { key: 'owner', label: 'Owner', sort: 'user_name', shown: true, cell: (j) => j.user },
  {
    key: 'state',
    label: 'State',
    sort: 'state',
    shown: true,
    cell: (j) => <StateBadge state={j.state} deleted={j.deleted} />,
  },
  {
    key: 'progress',
    label: 'Progress',
    shown: true,
    cell: (j) => <ProgressBar tasks={j.tasks} />,
  },
  {
    key: 'errors',
    label: 'Errors',
    className: 'num',
    shown: true,
    cell: (_j, c) =>
      c.stats === undefined ? (
        none
      ) : (
        <span className={c.stats.errors > 0 ? 'errors' : 'muted'} title="Failed tries">
          {c.stats.errors}
        </span>
      ),
  },
  {
    key: 'priority',
    label: 'Priority',
    sort: 'priority',
    className: 'num',
    shown: true,
    cell: (j) => j.priority,
  },
  { key: 'pool', label: 'Pool', sort: 'pool', shown: true, cell: (j) => j.pool || none },
  {
    key: 'elapsed',
    label: 'Elapsed',
    className: 'time',
    shown: true,
    cell: (j, c) => {
      const ms = elapsedMs(j, c.now);
      return ms === undefined ? none : formatDuration(ms);
    },
  },
  {
    key: 'eta',
    label: 'ETA',
    className: 'time',
    shown: true,
    cell: (j, c) => {
      const e = eta(j, c.stats);
      return <span title={e.why}>{e.ms === undefined ? none : `~${formatDuration(e.ms)}`}</span>;
    },
  },
  {
    key: 'submitted',
    label: 'Submitted',
    sort: 'created_at',
    className: 'time',
    shown: true,
    cell: (j) => formatTime(j.createdAt),
  },
  {
    key: 'started',
    label: 'Started',
    sort: 'started_at',
    className: 'time',
    shown: false,
    cell: (j) => formatTime(j.startedAt),
  },
  {
    key: 'ended',
    label: 'Ended',
    sort: 'ended_at',
    className: 'time',
    shown: false,
    cell: (j) => formatTime(j.endedAt),
  },
];

/** The jobs of one page: the chosen columns, a box per row, and the keyboard's cursor. */
export function JobsTable({
  rows,
  columns,
  stats,
  now,
  selected,
  cursor,
  loading,
  sort,
  onSort,
  onToggle,
  onTogglePage,
  empty,
}: {
  rows: Job[];
  columns: Column[];
  stats: Map<number, JobStats>;
  now: number;
  selected: ReadonlySet<number>;
  cursor: number;
  loading: boolean;
  sort: string;
  onSort: (field: string) => void;
  onToggle: (index: number, shift: boolean) => void;
  onTogglePage: () => void;
  empty: ReactNode;
}) {
  const allOnPage = rows.length > 0 && rows.every((j) => selected.has(j.id));
  const arrow = (field: string) => (sort === field ? ' ▲' : sort === `-${field}` ? ' ▼' : '');
  return (
    <div className="table-wrap">
      <table className="jobs" aria-busy={loading}>
        <thead>
          <tr>
            <th className="check">
              <input
                type="checkbox"
                aria-label="Select all on this page"
                checked={allOnPage}
                onChange={onTogglePage}
              />
            </th>
            {columns.map((c) => (
              <th key={c.key} className={c.className} data-column={c.key}>
                {c.sort ? (
                  <button type="button" className="sort" onClick={() => onSort(c.sort!)}>
                    {c.label}
                    {arrow(c.sort)}
                  </button>
                ) : (
                  c.label
                )}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((job, i) => (
            <tr
              key={job.id}
              className={`${selected.has(job.id) ? 'selected' : ''} ${i === cursor ? 'cursor' : ''}`}
              data-job={job.id}
              aria-current={i === cursor ? 'true' : undefined}
            >
              <td className="check">
                <input
                  type="checkbox"
                  aria-label={`Select job ${job.id}`}
                  checked={selected.has(job.id)}
                  // onClick, not onChange: only a mouse event says whether shift was held.
                  onClick={(e) => onToggle(i, e.shiftKey)}
                  onChange={() => undefined}
                />
              </td>
              {columns.map((c) => (
                <td key={c.key} className={c.className} data-column={c.key}>
                  {c.cell(job, { stats: stats.get(job.id), now })}
                </td>
              ))}
            </tr>
          ))}
          {!loading && rows.length === 0 && (
            <tr>
              <td colSpan={columns.length + 1} className="empty">
                {empty}
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}
