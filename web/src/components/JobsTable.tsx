import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useRef, type MouseEvent, type ReactNode } from 'react';
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
    // A multi-step job's bar is its steps' tasks added up (the server's), with its steps done.
    cell: (j) => (
      <>
        <ProgressBar tasks={j.tasks} />
        {j.steps && (
          <span className="progress-steps" title="Steps done of its steps">
            {j.steps.completed}/{j.steps.total} steps
            {j.steps.running > 0 && `, ${j.steps.running} running`}
            {j.steps.failed > 0 && <span className="errors">, {j.steps.failed} failed</span>}
          </span>
        )}
      </>
    ),
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
    key: 'project',
    label: 'Project',
    sort: 'project',
    shown: false,
    cell: (j) => j.project || none,
  },
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

/** Up to this many rows are all drawn; a longer page draws only what its scroller shows. */
export const VIRTUAL_FROM = 100;
/** A row's height as drawn (13 px text, 8 px padding, a border); the virtualiser measures. */
const ROW_PX = 37;

/**
 * The jobs of one page: the chosen columns, a box per row, and the keyboard's cursor. A page
 * longer than VIRTUAL_FROM rows (500 or 1,000 a page) scrolls in its own box and draws only
 * the rows in view plus a margin, with spacer rows for the rest, so that the page answers
 * as fast with a thousand rows as with fifty.
 */
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
  onMenu,
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
  /** A right click on a row: its index and where. */
  onMenu?: (index: number, event: MouseEvent) => void;
  empty: ReactNode;
}) {
  const scroller = useRef<HTMLDivElement>(null);
  const virtual = rows.length > VIRTUAL_FROM;
  const virtualizer = useVirtualizer({
    count: virtual ? rows.length : 0,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_PX,
    overscan: 12,
  });
  // The keyboard's cursor may move to a row not drawn: bring it into view first.
  useEffect(() => {
    if (cursor < 0) return;
    if (virtual) virtualizer.scrollToIndex(cursor, { align: 'auto' });
    else scroller.current?.querySelector('tr.cursor')?.scrollIntoView({ block: 'nearest' });
  }, [cursor, virtual, virtualizer]);
  const items = virtual ? virtualizer.getVirtualItems() : [];
  const drawn = virtual ? items.map((v) => v.index) : rows.map((_, i) => i);
  const before = virtual ? (items[0]?.start ?? 0) : 0;
  const after = virtual ? virtualizer.getTotalSize() - (items[items.length - 1]?.end ?? 0) : 0;
  const span = columns.length + 1;
  const allOnPage = rows.length > 0 && rows.every((j) => selected.has(j.id));
  const arrow = (field: string) => (sort === field ? ' ▲' : sort === `-${field}` ? ' ▼' : '');
  return (
    <div
      className={`table-wrap${virtual ? ' scroller' : ''}`}
      ref={scroller}
      data-virtual={virtual ? 'true' : undefined}
    >
      <table className="jobs" aria-busy={loading} aria-rowcount={rows.length + 1}>
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
          {before > 0 && (
            <tr className="spacer" aria-hidden="true">
              <td colSpan={span} style={{ height: before }} />
            </tr>
          )}
          {drawn.map((i) => {
            const job = rows[i]!;
            return (
              <tr
                key={job.id}
                className={`${selected.has(job.id) ? 'selected' : ''} ${i === cursor ? 'cursor' : ''}`}
                data-job={job.id}
                data-index={i}
                aria-rowindex={i + 2}
                aria-current={i === cursor ? 'true' : undefined}
                onContextMenu={
                  onMenu
                    ? (e) => {
                        e.preventDefault();
                        onMenu(i, e);
                      }
                    : undefined
                }
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
            );
          })}
          {after > 0 && (
            <tr className="spacer" aria-hidden="true">
              <td colSpan={span} style={{ height: after }} />
            </tr>
          )}
          {!loading && rows.length === 0 && (
            <tr>
              <td colSpan={span} className="empty">
                {empty}
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}
