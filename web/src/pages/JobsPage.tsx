import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { JobQuery } from '../api/endpoints';
import { api } from '../api/endpoints';
import { useEvents } from '../api/events';
import type { DroverEvent, Job, JobStats } from '../api/types';
import { BulkActions, type ActionJob } from '../components/BulkActions';
import { ColumnChooser, useColumns } from '../components/ColumnChooser';
import { ErrorMessage } from '../components/ErrorMessage';
import { JobContextMenu, type MenuAt } from '../components/JobContextMenu';
import { filtersFrom, JobFilters, type Filters } from '../components/JobFilters';
import { COLUMNS, JobsTable } from '../components/JobsTable';
import { LiveBadge } from '../components/LiveBadge';
import { Notice, type NoticeText } from '../components/Notice';
import { Pager } from '../components/Pager';
import { SavedViews } from '../components/SavedViews';
import { ShortcutHelp } from '../components/ShortcutHelp';
import { useLoad, useNow, useThrottle } from '../lib/hooks';
import type { JobCommand } from '../lib/job-actions';
import { href, navigate, type Route } from '../lib/router';
import { useShortcuts } from '../lib/shortcuts';

function toQuery(f: Filters, sort: string, offset: number, limit: number): JobQuery {
  const range = (suffix: 'After' | 'Before', value: string) =>
    value ? { [`${f.time}${suffix}`]: value } : {};
  return {
    ...(f.state.length ? { state: f.state } : {}),
    ...(f.type ? { type: [f.type] } : {}),
    ...(f.user ? { user: f.user.split(/[\s,]+/).filter(Boolean) } : {}),
    ...(f.pool ? { pool: f.pool.split(/[\s,]+/).filter(Boolean) } : {}),
    ...(f.project ? { project: f.project.split(/[\s,]+/).filter(Boolean) } : {}),
    ...(f.q ? { q: f.q } : {}),
    ...range('After', f.from),
    ...range('Before', f.to),
    deleted: f.deleted,
    sort,
    offset,
    limit,
  };
}

/** Past 200 a page scrolls in its own box and draws only its visible rows (JobsTable). */
const PAGE_SIZES = [25, 50, 100, 200, 500, 1000];

/** /stats/jobs takes at most 100 ids; a page of 200 asks twice. */
async function statsOf(ids: number[]): Promise<Map<number, JobStats>> {
  const chunks = [];
  for (let i = 0; i < ids.length; i += 100) chunks.push(ids.slice(i, i + 100));
  const answers = await Promise.all(chunks.map((c) => api.jobStats(c)));
  return new Map(answers.flatMap((a) => a.items).map((s) => [s.jobId, s]));
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
  const [cursor, setCursor] = useState(-1);
  const [anchor, setAnchor] = useState<number>();
  const [help, setHelp] = useState(false);
  const closeHelp = useCallback(() => setHelp(false), []);
  const [menu, setMenu] = useState<MenuAt>();
  const closeMenu = useCallback(() => setMenu(undefined), []);
  const trigger = useRef<(action: JobCommand, among?: ActionJob[]) => void>(undefined);
  const columns = useColumns(COLUMNS);
  const now = useNow(5000);

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
  const rows: Job[] = useMemo(() => jobs.data?.items ?? [], [jobs.data]);
  const idsKey = rows.map((j) => j.id).join(',');
  const stats = useLoad(
    () => (idsKey ? statsOf(idsKey.split(',').map(Number)) : Promise.resolve(new Map())),
    [idsKey],
  );

  // Errors and ETAs change with every try; they follow at a calmer pace than states.
  const refreshStats = useThrottle(stats.reload, 5000);
  const refresh = useThrottle(jobs.reload, 1000);
  const visible = useMemo(() => new Set(rows.map((j) => j.id)), [rows]);
  // A multi-step job's progress moves with its steps, which are jobs of their own and
  // mostly not on the page: while one runs here, a change of a job not shown may be its.
  const stepsMove = useMemo(
    () => rows.some((j) => j.steps && !['COMPLETED', 'FAILED', 'CANCELED'].includes(j.state)),
    [rows],
  );
  const live = useEvents(['job', 'task'], (event: DroverEvent) => {
    if (event.type === 'job.created' || event.type === 'job.undeleted') refresh();
    else if ('jobId' in event && visible.has(event.jobId)) {
      refresh();
      if (event.type === 'task.state') refreshStats();
    } else if (stepsMove && (event.type === 'task.state' || event.type === 'job.state')) {
      refresh();
    }
  });

  useEffect(() => {
    setCursor((c) => Math.min(c, rows.length - 1));
    setSelected((old) => {
      if (!rows.some((j) => old.has(j.id))) return old;
      const next = new Map(old);
      for (const j of rows) if (next.has(j.id)) next.set(j.id, j);
      return next;
    });
  }, [rows]);

  /** A click selects or unselects a row; with shift, every row from the last click to it. */
  const toggle = (index: number, shift = false) => {
    const job = rows[index];
    if (!job) return;
    setSelected((old) => {
      const next = new Map(old);
      const on = !next.has(job.id);
      const from = shift && anchor !== undefined ? Math.min(anchor, index) : index;
      const to = shift && anchor !== undefined ? Math.max(anchor, index) : index;
      for (const j of rows.slice(from, to + 1)) {
        if (on) next.set(j.id, j);
        else next.delete(j.id);
      }
      return next;
    });
    setAnchor(index);
    setCursor(index);
  };
  const togglePage = () =>
    setSelected((old) => {
      const all = rows.length > 0 && rows.every((j) => old.has(j.id));
      const next = new Map(old);
      for (const j of rows) {
        if (all) next.delete(j.id);
        else next.set(j.id, j);
      }
      return next;
    });

  /** s and r act on the selection, or on the cursor's row when nothing is selected. */
  const act = (action: JobCommand) => {
    const current = rows[cursor];
    if (selected.size > 0) trigger.current?.(action);
    else if (current) trigger.current?.(action, [current]);
  };
  useShortcuts({
    j: () => setCursor((c) => Math.min(rows.length - 1, c + 1)),
    k: () => setCursor((c) => Math.max(0, c - 1)),
    x: () => toggle(cursor),
    Enter: () => {
      if (rows[cursor]) navigate(`/jobs/${rows[cursor].id}`);
    },
    s: () => act('suspend'),
    r: () => act('resume'),
    '/': () =>
      document.querySelector<HTMLInputElement>('input[aria-label="Search job names"]')?.focus(),
    '?': () => setHelp((h) => !h),
  });
  /** A right click acts on the selection when the row is in it, else on the row alone. */
  const openMenu = (index: number, e: React.MouseEvent) => {
    const job = rows[index];
    if (!job) return;
    setCursor(index);
    setMenu({
      x: e.clientX,
      y: e.clientY,
      jobs: selected.has(job.id) ? [...selected.values()] : [job],
    });
  };

  const sortBy = (field: string) =>
    update({ sort: sort === `-${field}` ? field : sort === field ? `-${field}` : `-${field}` });

  return (
    <div className="page">
      <div className="page-head">
        <h1>Jobs</h1>
        <LiveBadge live={live} />
        <a href={href('/submit-template')} className="submit-template-link">
          Submit a template
        </a>
        <button
          type="button"
          className="link shortcuts-hint"
          onClick={() => setHelp(true)}
          title="Keyboard shortcuts (?)"
        >
          ? shortcuts
        </button>
      </div>
      <JobFilters filters={filters} types={typeNames} onChange={onFilters} />
      <SavedViews params={params} />
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
          trigger={trigger}
          onDone={(text, failed) => {
            setNotice({ text, failed });
            jobs.reload();
          }}
        />
        <ColumnChooser columns={COLUMNS} shown={columns.shown} onToggle={columns.toggle} />
      </div>
      <Notice notice={notice} onClose={() => setNotice(undefined)} />
      <ErrorMessage error={jobs.error} onRetry={jobs.reload} />
      <JobsTable
        rows={rows}
        columns={columns.visible}
        stats={stats.data ?? new Map()}
        now={now}
        selected={new Set(selected.keys())}
        cursor={cursor}
        loading={jobs.loading}
        sort={sort}
        onSort={sortBy}
        onToggle={toggle}
        onTogglePage={togglePage}
        onMenu={openMenu}
        empty={
          jobs.error ? null : (
            <>
              No jobs match these filters. <a href={href('/submit')}>Submit a job</a>
            </>
          )
        }
      />
      {jobs.data && (
        <Pager
          total={jobs.data.total}
          exact={jobs.data.totalExact ?? true}
          shown={jobs.data.items.length}
          offset={offset}
          limit={limit}
          onPage={(o) => update({ offset: o ? String(o) : undefined }, false)}
          onSize={(n) => update({ size: n === 50 ? undefined : String(n) })}
          sizes={PAGE_SIZES}
        />
      )}
      <JobContextMenu
        at={menu}
        onClose={closeMenu}
        onAction={(action, among) => trigger.current?.(action, among)}
      />
      <ShortcutHelp open={help} onClose={closeHelp} />
    </div>
  );
}
