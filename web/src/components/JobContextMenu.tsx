import { useEffect, useRef } from 'react';
import { allows, type JobCommand } from '../lib/job-actions';
import { href } from '../lib/router';
import { ACTIONS, type ActionJob } from './BulkActions';

export interface MenuAt {
  x: number;
  y: number;
  /** The row clicked, or the whole selection when the row is part of it. */
  jobs: ActionJob[];
}

/**
 * The jobs table's right-click menu: open the job, and only the actions its state (or every
 * selected job's) allows, with how many of the selection each would touch. Actions go
 * through the toolbar's runner, so cancel, delete and purge still ask first. Escape, a
 * click elsewhere or a scroll closes it.
 */
export function JobContextMenu({
  at,
  onAction,
  onClose,
}: {
  at: MenuAt | undefined;
  onAction: (action: JobCommand, jobs: ActionJob[]) => void;
  onClose: () => void;
}) {
  const menu = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!at) return;
    menu.current?.querySelector<HTMLElement>('[role="menuitem"]')?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') onClose();
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        const items = [...(menu.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? [])];
        const i = items.indexOf(document.activeElement as HTMLElement);
        const next = e.key === 'ArrowDown' ? i + 1 : i - 1;
        items[(next + items.length) % items.length]?.focus();
      }
    };
    const onDown = (e: Event) => {
      if (!menu.current?.contains(e.target as Node)) onClose();
    };
    window.addEventListener('keydown', onKey, true);
    window.addEventListener('mousedown', onDown, true);
    window.addEventListener('scroll', onClose, true);
    window.addEventListener('resize', onClose);
    return () => {
      window.removeEventListener('keydown', onKey, true);
      window.removeEventListener('mousedown', onDown, true);
      window.removeEventListener('scroll', onClose, true);
      window.removeEventListener('resize', onClose);
    };
  }, [at, onClose]);
  if (!at) return null;
  const one = at.jobs.length === 1 ? at.jobs[0] : undefined;
  const valid = ACTIONS.map((a) => ({
    ...a,
    count: at.jobs.filter((j) => allows(j, a.action)).length,
  })).filter((a) => a.count > 0);
  // Kept inside the window: a menu opened near the right or bottom edge opens leftward/upward.
  const left = Math.min(at.x, window.innerWidth - 230);
  const top = Math.min(at.y, window.innerHeight - 40 - 34 * (valid.length + 1));
  return (
    <div
      ref={menu}
      className="context-menu"
      role="menu"
      aria-label={one ? `Job ${one.id}` : `${at.jobs.length} selected jobs`}
      style={{ left: Math.max(4, left), top: Math.max(4, top) }}
    >
      <div className="context-title muted">
        {one ? `#${one.id} ${one.name || '(no name)'}` : `${at.jobs.length} selected jobs`}
      </div>
      {one && (
        <a role="menuitem" tabIndex={-1} href={href(`/jobs/${one.id}`)} onClick={onClose}>
          Open
        </a>
      )}
      {valid.map((a) => (
        <button
          key={a.action}
          type="button"
          role="menuitem"
          tabIndex={-1}
          data-action={a.action}
          className={a.danger ? 'danger' : ''}
          onClick={() => {
            onClose();
            onAction(a.action, at.jobs);
          }}
        >
          {a.label}
          {a.count < at.jobs.length && <span className="count"> ({a.count})</span>}
        </button>
      ))}
      {valid.length === 0 && <div className="muted context-none">No action fits this state</div>}
    </div>
  );
}
