import { useState } from 'react';
import { applyToJobs, summarise, type BulkAction } from '../api/bulk';

const ACTIONS: Array<{ action: BulkAction; label: string; danger?: boolean }> = [
  { action: 'suspend', label: 'Suspend' },
  { action: 'resume', label: 'Resume' },
  { action: 'requeue', label: 'Requeue' },
  { action: 'pend', label: 'Pend' },
  { action: 'release', label: 'Release' },
  { action: 'cancel', label: 'Cancel', danger: true },
  { action: 'delete', label: 'Delete', danger: true },
  { action: 'undelete', label: 'Undelete' },
];

/**
 * Buttons that act on the given jobs (many from the list, or one on its page) and report
 * what happened, naming each job the server refused and why.
 */
export function BulkActions({
  ids,
  onDone,
  exclude = [],
}: {
  ids: number[];
  onDone: (message: string, failed: boolean) => void;
  exclude?: BulkAction[];
}) {
  const [busy, setBusy] = useState(false);
  const [priority, setPriority] = useState('');

  const run = async (action: BulkAction) => {
    if (ids.length === 0) return;
    if (
      (action === 'cancel' || action === 'delete') &&
      ids.length > 1 &&
      !window.confirm(`${action === 'cancel' ? 'Cancel' : 'Delete'} ${ids.length} jobs?`)
    ) {
      return;
    }
    const value = Number(priority);
    if (action === 'priority' && (!Number.isInteger(value) || priority.trim() === '')) {
      onDone('Type a whole number as the priority (higher runs first), then press Set.', true);
      return;
    }
    setBusy(true);
    const result = await applyToJobs(ids, action, value);
    setBusy(false);
    onDone(summarise(action, result), result.refused.length > 0);
  };

  return (
    <div className="actions" aria-busy={busy}>
      {ACTIONS.filter((a) => !exclude.includes(a.action)).map((a) => (
        <button
          key={a.action}
          type="button"
          className={a.danger ? 'danger' : ''}
          disabled={busy || ids.length === 0}
          onClick={() => void run(a.action)}
        >
          {a.label}
        </button>
      ))}
      <form
        className="inline"
        onSubmit={(e) => {
          e.preventDefault();
          void run('priority');
        }}
      >
        <input
          aria-label="New priority"
          placeholder="Priority"
          inputMode="numeric"
          size={7}
          value={priority}
          onChange={(e) => setPriority(e.target.value)}
        />
        <button type="submit" disabled={busy || ids.length === 0}>
          Set
        </button>
      </form>
    </div>
  );
}
