import { useCallback, useState } from 'react';
import type { Column } from './JobsTable';

const KEY = 'drover.jobs.columns';
/** Always shown: without them a row names nothing. */
const FIXED = new Set(['id', 'name']);

function saved(columns: Column[]): Set<string> {
  try {
    const list = JSON.parse(localStorage.getItem(KEY) ?? 'null') as unknown;
    if (Array.isArray(list)) return new Set([...FIXED, ...list.map(String)]);
  } catch {
    // A damaged entry falls back to the defaults.
  }
  return new Set(columns.filter((c) => c.shown).map((c) => c.key));
}

/** The columns shown, kept in this browser's local storage. */
export function useColumns(columns: Column[]) {
  const [shown, setShown] = useState(() => saved(columns));
  const toggle = useCallback((key: string) => {
    if (FIXED.has(key)) return;
    setShown((old) => {
      const next = new Set(old);
      if (next.has(key)) next.delete(key);
      else next.add(key);
      localStorage.setItem(KEY, JSON.stringify([...next]));
      return next;
    });
  }, []);
  return { visible: columns.filter((c) => shown.has(c.key)), shown, toggle };
}

export function ColumnChooser({
  columns,
  shown,
  onToggle,
}: {
  columns: Column[];
  shown: ReadonlySet<string>;
  onToggle: (key: string) => void;
}) {
  // The boxes exist only while open, so "Pool" names the filter, not a column, elsewhere.
  const [open, setOpen] = useState(false);
  return (
    <details className="column-chooser" onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>Columns</summary>
      {open && (
        <div className="column-list" role="group" aria-label="Columns to show">
          {columns.map((c) => (
            <label key={c.key}>
              <input
                type="checkbox"
                checked={shown.has(c.key)}
                disabled={FIXED.has(c.key)}
                onChange={() => onToggle(c.key)}
              />{' '}
              {c.label}
            </label>
          ))}
        </div>
      )}
    </details>
  );
}
