import { useEffect, useState } from 'react';
import { JOB_STATES } from '../api/types';
import { fromLocalInput, toLocalInput } from '../lib/format';

export interface Filters {
  state: string[];
  type: string;
  user: string;
  pool: string;
  project: string;
  q: string;
  time: 'created' | 'started' | 'ended';
  from: string;
  to: string;
  deleted: 'exclude' | 'include' | 'only';
}

export function filtersFrom(params: URLSearchParams): Filters {
  const time = params.get('time');
  const deleted = params.get('deleted');
  return {
    state: (params.get('state') ?? '').split(',').filter(Boolean),
    type: params.get('type') ?? '',
    user: params.get('user') ?? '',
    pool: params.get('pool') ?? '',
    project: params.get('project') ?? '',
    q: params.get('q') ?? '',
    time: time === 'started' || time === 'ended' ? time : 'created',
    from: params.get('from') ?? '',
    to: params.get('to') ?? '',
    deleted: deleted === 'include' || deleted === 'only' ? deleted : 'exclude',
  };
}

/** Typing waits this long before the list reloads. */
const TYPING_MS = 300;

/** One text box that reports its value after the person stops typing. */
function TextFilter({
  label,
  value,
  onChange,
  placeholder,
  wide,
}: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  placeholder: string;
  wide?: boolean;
}) {
  const [text, setText] = useState(value);
  useEffect(() => setText(value), [value]);
  useEffect(() => {
    if (text === value) return;
    const timer = setTimeout(() => onChange(text.trim()), TYPING_MS);
    return () => clearTimeout(timer);
  }, [text, value, onChange]);
  return (
    <input
      type="search"
      aria-label={label}
      placeholder={placeholder}
      className={wide ? 'wide' : ''}
      value={text}
      onChange={(e) => setText(e.target.value)}
    />
  );
}

export function JobFilters({
  filters,
  types,
  onChange,
}: {
  filters: Filters;
  types: string[];
  onChange: (patch: Partial<Filters>) => void;
}) {
  const toggleState = (state: string) =>
    onChange({
      state: filters.state.includes(state)
        ? filters.state.filter((s) => s !== state)
        : [...filters.state, state],
    });
  const any =
    filters.state.length > 0 ||
    filters.type ||
    filters.user ||
    filters.pool ||
    filters.project ||
    filters.q ||
    filters.from ||
    filters.to ||
    filters.deleted !== 'exclude';
  return (
    <div className="filters">
      <div className="filter-row states" role="group" aria-label="States">
        {JOB_STATES.map((state) => (
          <button
            key={state}
            type="button"
            className={`chip state-${state.toLowerCase()}${filters.state.includes(state) ? ' on' : ''}`}
            aria-pressed={filters.state.includes(state)}
            onClick={() => toggleState(state)}
          >
            {state.toLowerCase()}
          </button>
        ))}
        <select
          aria-label="Deleted jobs"
          value={filters.deleted}
          onChange={(e) => onChange({ deleted: e.target.value as Filters['deleted'] })}
        >
          <option value="exclude">Hide deleted</option>
          <option value="include">With deleted</option>
          <option value="only">Only deleted</option>
        </select>
        {any && (
          <button
            type="button"
            className="link"
            onClick={() =>
              onChange({
                state: [],
                type: '',
                user: '',
                pool: '',
                project: '',
                q: '',
                from: '',
                to: '',
                deleted: 'exclude',
              })
            }
          >
            Clear filters
          </button>
        )}
      </div>
      <div className="filter-row">
        <TextFilter
          label="Search job names"
          placeholder="Search names…"
          value={filters.q}
          onChange={(q) => onChange({ q })}
          wide
        />
        <select
          aria-label="Job type"
          value={filters.type}
          onChange={(e) => onChange({ type: e.target.value })}
        >
          <option value="">Any type</option>
          {types.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
        <TextFilter
          label="User"
          placeholder="User"
          value={filters.user}
          onChange={(user) => onChange({ user })}
        />
        <TextFilter
          label="Pool"
          placeholder="Pool"
          value={filters.pool}
          onChange={(pool) => onChange({ pool })}
        />
        <TextFilter
          label="Project"
          placeholder="Project"
          value={filters.project}
          onChange={(project) => onChange({ project })}
        />
        <select
          aria-label="Time field"
          value={filters.time}
          onChange={(e) => onChange({ time: e.target.value as Filters['time'] })}
        >
          <option value="created">Submitted</option>
          <option value="started">Started</option>
          <option value="ended">Ended</option>
        </select>
        <input
          type="datetime-local"
          aria-label="From"
          title="From"
          value={toLocalInput(filters.from || undefined)}
          onChange={(e) => onChange({ from: fromLocalInput(e.target.value) ?? '' })}
        />
        <span className="muted">to</span>
        <input
          type="datetime-local"
          aria-label="To"
          title="To"
          value={toLocalInput(filters.to || undefined)}
          onChange={(e) => onChange({ to: fromLocalInput(e.target.value) ?? '' })}
        />
      </div>
    </div>
  );
}
