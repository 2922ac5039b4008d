import { useCallback, useEffect, useMemo, useState } from 'react';
import type { JobQuery } from '../api/endpoints';
import { api } from '../api/endpoints';
import { useEvents } from '../api/events';
import type { DroverEvent, Job } from '../api/types';
import { BulkActions, type ActionJob } from '../components/BulkActions';
import { ErrorMessage } from '../components/ErrorMessage';
import { filtersFrom, JobFilters, type Filters } from '../components/JobFilters';
import { LiveBadge } from '../components/LiveBadge';
import { Notice, type NoticeText } from '../components/Notice';
import { Pager } from '../components/Pager';
import { ProgressBar } from '../components/ProgressBar';
import { StateBadge } from '../components/StateBadge';
import { formatTime } from '../lib/format';
import { useLoad, useThrottle } from '../lib/hooks';
import { href, navigate, type Route } from '../lib/router';

const COLUMNS: Array<{ label: string; sort?: string; className?: string }> = [
  { label: 'ID', sort: 'id', className: 'num' },
  { label: 'Name', sort: 'name' },
  { label: 'Type' },
  { label: 'User', sort: 'user_name' },
  { label: 'State', sort: 'state' },
  { label: 'Progress' },
  { label: 'Priority', sort: 'priority', className: 'num' },
  { label: 'Pool', sort: 'pool' },
  { label: 'Submitted', sort: 'created_at' },
  { label: 'Started', sort: 'started_at' },
  { label: 'Ended', sort: 'ended_at' },
];

function toQuery(f: Filters, sort: string, offset: number, limit: number): JobQuery {
  const range = (suffix: 'After' | 'Before', value: string) =>
    value ? { [`${f.time}${suffix}`]: value } : {};
  return {
    ...(f.state.length ? { state: f.state } : {}),
    ...(f.type ? { type: [f.type] } : {}),
    ...(f.user ? { user: f.user.split(/[\s,]+/).filter(Boolean) } : {}),
    ...(f.pool ? { pool: f.pool.split(/[\s,]+/).filter(Boolean) } : {}),
    ...(f.q ? { q: f.q } : {}),
    ...range('After', f.from),
    ...range('Before', f.to),
    deleted: f.deleted,
    sort,
    offset,
    limit,
  };
}

/** Every job, filtered, sorted and paged by the server; rows follow the event stream. */
export function JobsPage({ route }: { route: Route }) {
  const params = route.params;
  const filters = filtersFrom(params);
  const sort = params.get('sort') ?? '-id';
  const limit = Number(params.get('size') ?? 50) || 50;
  const offset = Math.max(0, Number(params.get('offset') ?? 0) || 0);
  // Selected jobs as last seen, so that actions follow their states across pages.
  const [selected, setSelected] = useState<Map<number, ActionJob>>(new Map());
  const [notice, setNotice] = useState<NoticeText>();

  const update = useCallback((patch: Record<string, string | undefined>, resetPage = true) => {
    const next = new URLSearchParams(location.hash.split('?')[1] ?? '');
    for (const [key, value] of Object.entries(patch)) {
      if (value) next.set(key, value);
      else next.delete(key);
    }
    if (resetPage) next.delete('offset');
    navigate('/jobs', next, true);
  }, []);
  const onFilters = useCallback(
    (patch: Partial<Filters>) =>
      update(
        Object.fromEntries(
          Object.entries(patch).map(([k, v]) => [
            k,
            Array.isArray(v) ? v.join(',') : v === 'exclude' || v === 'created' ? '' : v,
          ]),
        ),
      ),
    [update],
  );

  const queryKey = JSON.stringify(toQuery(filters, sort, offset, limit));
  const jobs = useLoad(() => api.jobs(JSON.parse(queryKey) as JobQuery), [queryKey]);
  const types = useLoad(() => api.jobTypes(), []);
  const typeNames = useMemo(
    () => [...new Set((types.data?.items ?? []).map((t) => t.name))].sort(),
    [types.data],
  );

  const refresh = useThrottle(jobs.reload, 1000);
  const visible = useMemo(() => new Set(jobs.data?.items.map((j) => j.id)), [jobs.data]);
  const live = useEvents(['job', 'task'], (event: DroverEvent) => {
    if (event.type === 'job.created' || event.type === 'job.undeleted') refresh();
    else if ('jobId' in event && visible.has(event.jobId)) refresh();
  });

  const rows: Job[] = useMemo(() => jobs.data?.items ?? [], [jobs.data]);
  useEffect(
    () =>
      setSelected((old) => {
        if (!rows.some((j) => old.has(j.id))) return old;
        const next = new Map(old);
        for (const j of rows) if (next.has(j.id)) next.set(j.id, j);
        return next;
      }),
    [rows],
  );
  const allOnPage = rows.length > 0 && rows.every((j) => selected.has(j.id));
  const toggle = (job: Job) =>
    setSelected((old) => {
      const next = new Map(old);
      if (next.has(job.id)) next.delete(job.id);
      else next.set(job.id, job);
      return next;
    });
  const togglePage = () =>
    setSelected((old) => {
      const next = new Map(old);
      for (const j of rows) {
        if (allOnPage) next.delete(j.id);
        else next.set(j.id, j);
      }
      return next;
    });

  const sortBy = (field: string) =>
    update({ sort: sort === `-${field}` ? field : sort === field ? `-${field}` : `-${field}` });
  const arrow = (field: string) => (sort === field ? ' ▲' : sort === `-${field}` ? ' ▼' : '');

  return (
    <div className="page">
      <div className="page-head">
        <h1>Jobs</h1>
        <LiveBadge live={live} />
      </div>
      <JobFilters filters={filters} types={typeNames} onChange={onFilters} />
      <div className="toolbar">
        <span className="selection">
          {selected.size > 0 ? (
            <>
              {selected.size} selected{' '}
              <button type="button" className="link" onClick={() => setSelected(new Map())}>
                clear
              </button>
            </>
          ) : (
            <span className="muted">Select jobs to act on them</span>
          )}
        </span>
        <BulkActions
          jobs={[...selected.values()]}
          onDone={(text, failed) => {
            setNotice({ text, failed });
            jobs.reload();
          }}
        />
      </div>
      <Notice notice={notice} onClose={() => setNotice(undefined)} />
      <ErrorMessage error={jobs.error} onRetry={jobs.reload} />
      <div className="table-wrap">
        <table className="jobs" aria-busy={jobs.loading}>
          <thead>
            <tr>
              <th className="check">
                <input
                  type="checkbox"
                  aria-label="Select all on this page"
                  checked={allOnPage}
                  onChange={togglePage}
                />
              </th>
              {COLUMNS.map((c) => (
                <th key={c.label} className={c.className}>
                  {c.sort ? (
                    <button type="button" className="sort" onClick={() => sortBy(c.sort!)}>
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
            {rows.map((job) => (
              <tr key={job.id} className={selected.has(job.id) ? 'selected' : ''} data-job={job.id}>
                <td className="check">
                  <input
                    type="checkbox"
                    aria-label={`Select job ${job.id}`}
                    checked={selected.has(job.id)}
                    onChange={() => toggle(job)}
                  />
                </td>
                <td className="num">{job.id}</td>
                <td className="name">
                  <a href={href(`/jobs/${job.id}`)} title={job.name}>
                    {job.name || <span className="muted">(no name)</span>}
                  </a>
                </td>
                <td>{job.type.name}</td>
                <td>{job.user}</td>
                <td>
                  <StateBadge state={job.state} deleted={job.deleted} />
                </td>
                <td>
                  <ProgressBar tasks={job.tasks} />
                </td>
                <td className="num">{job.priority}</td>
                <td>{job.pool || <span className="muted">—</span>}</td>
                <td className="time">{formatTime(job.createdAt)}</td>
                <td className="time">{formatTime(job.startedAt)}</td>
                <td className="time">{formatTime(job.endedAt)}</td>
              </tr>
            ))}
            {!jobs.loading && rows.length === 0 && !jobs.error && (
              <tr>
                <td colSpan={COLUMNS.length + 1} className="empty">
                  No jobs match these filters. <a href={href('/submit')}>Submit a job</a>
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      {jobs.data && (
        <Pager
          total={jobs.data.total}
          exact={jobs.data.totalExact ?? true}
          shown={jobs.data.items.length}
          offset={offset}
          limit={limit}
          onPage={(o) => update({ offset: o ? String(o) : undefined }, false)}
          onSize={(n) => update({ size: n === 50 ? undefined : String(n) })}
        />
      )}
    </div>
  );
}
